/**
 * Which faces of a frame get an appearance embedding (it costs ~30 ms per face on 2 CPU cores,
 * so not every face of every frame): a face that is new (it overlaps no face of its camera's
 * previous frame by more than 0.3 IoU), every face after a scene cut, and every face once per
 * `everyMs` of its camera's media time; never a face under `minFacePx` high (its embedding does
 * not tell people apart). The period is media time, not a count of frames, so that analysing every
 * frame of a 25 fps file costs no more embeddings a second than the default 10 fps.
 */
import { iou, withinMediaTime, type Box, type FaceCrop } from '@emostream/contracts';

/** Settings of {@link EmbeddingPolicy}. */
export interface EmbeddingPolicyOptions {
  /** Every face is embedded at least once per this much media time, ms. */
  everyMs: number;
  minFacePx: number;
}

/** Per-camera memory of the previous frame's faces and of the last embedding of every face. */
export class EmbeddingPolicy {
  private readonly cams = new Map<string, { boxes: Box[]; lastAllMs: number }>();
  constructor(private readonly o: EmbeddingPolicyOptions) {
    if (!(o.everyMs > 0)) throw new Error(`everyMs must be a positive number of ms, got ${o.everyMs}`);
  }

  /**
   * The faces of this frame to embed (the camera's frames must come in order; `mediaTimeMs` is the
   * frame's). A camera's first frame embeds every face; so does a frame whose media time went back
   * (a file looped, a stream restarted).
   */
  select(cameraId: string, faces: readonly FaceCrop[], sceneCut: boolean, mediaTimeMs: number): FaceCrop[] {
    let cam = this.cams.get(cameraId);
    const periodic = !cam || !withinMediaTime(mediaTimeMs, cam.lastAllMs, this.o.everyMs);
    if (!cam) this.cams.set(cameraId, cam = { boxes: [], lastAllMs: mediaTimeMs });
    if (periodic) cam.lastAllMs = mediaTimeMs;
    const previous = cam.boxes;
    cam.boxes = faces.map((f) => f.box);
    return faces.filter((f) => f.box.height >= this.o.minFacePx
      && (periodic || sceneCut || !previous.some((b) => iou(b, f.box) > 0.3)));
  }
}
