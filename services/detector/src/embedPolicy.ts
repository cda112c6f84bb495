/**
 * Which faces of a frame get an appearance embedding (it costs ~30 ms per face on 2 CPU cores,
 * so not every face of every frame): a face that is new (it overlaps no face of its camera's
 * previous frame by more than 0.3 IoU), every face after a scene cut, and every face on each
 * `everyFrames`-th frame of its camera; never a face under `minFacePx` high (its embedding does
 * not tell people apart).
 */
import { iou, type Box, type FaceCrop } from '@emostream/contracts';

/** Settings of {@link EmbeddingPolicy}. */
export interface EmbeddingPolicyOptions {
  everyFrames: number;
  minFacePx: number;
}

/** Per-camera memory of the previous frame's faces. */
export class EmbeddingPolicy {
  private readonly cams = new Map<string, { boxes: Box[]; sinceEmbed: number }>();
  constructor(private readonly o: EmbeddingPolicyOptions) {}

  /** The faces of this frame to embed (the camera's frames must come in order). */
  select(cameraId: string, faces: readonly FaceCrop[], sceneCut: boolean): FaceCrop[] {
    const cam = this.cams.get(cameraId) ?? { boxes: [], sinceEmbed: this.o.everyFrames - 1 };
    this.cams.set(cameraId, cam);
    const periodic = ++cam.sinceEmbed >= this.o.everyFrames;
    if (periodic) cam.sinceEmbed = 0;
    const previous = cam.boxes;
    cam.boxes = faces.map((f) => f.box);
    return faces.filter((f) => f.box.height >= this.o.minFacePx
      && (periodic || sceneCut || !previous.some((b) => iou(b, f.box) > 0.3)));
  }
}
