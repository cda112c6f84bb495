/**
 * Which faces of a frame get an appearance embedding (it costs ~30 ms per face on 2 CPU cores,
 * so not every face of every frame): a face that is new (it overlaps no face of its camera's
 * previous frame by more than 0.3 IoU), every face after a scene cut, and every face on each
 * `everyFrames`-th frame of its camera; never a face under `minFacePx` high (its embedding does
 * not tell people apart).
 */
import type { Box, FaceCrop } from '@emostream/contracts';

/** Intersection over union of two boxes. */
export function iouOf(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x), y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width), y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

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
      && (periodic || sceneCut || !previous.some((b) => iouOf(b, f.box) > 0.3)));
  }
}
