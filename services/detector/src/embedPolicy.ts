/**
 * Which faces of a frame get an appearance embedding (it costs ~30 ms per face on 2 CPU cores,
 * so not every face of every frame). Each face of a frame is followed from the camera's previous
 * frame (the face it overlaps by 0.3 IoU or more, one to one) and embedded when:
 * - it is new (it overlaps no face of the previous frame), or the frame follows a scene cut;
 * - its last embedding is older than its period: `everyMs` after its first embedding, then
 *   doubling with each embedding it got since (1, 2, 4 s…) up to `maxEveryMs`, but `everyMs`
 *   again while another face is near it (`crowdFaceWidths`), where the tracker may need the
 *   likeness to tell the two apart;
 * - it was cut by the frame's edge when last embedded and is whole now, or it grew to
 *   `growRatio` times the height it was last embedded at: a better likeness of the same person
 *   for re-identification, taken at once rather than at the next period.
 * - it jumped since the previous frame (overlaps the face it follows by less than `jumpIou`):
 *   it may be another person after a cut the scene-cut detector missed, and the aggregator's
 *   tracker needs the likeness to tell.
 * Never a face under `minFacePx` high (its embedding does not tell people apart). Periods are
 * media time, not counts of frames, so that analysing every frame of a 25 fps file costs no more
 * embeddings a second than the default 10 fps.
 */
import { iou, isCutByEdge, JUMP_IOU, matchByIou, withinMediaTime, type Box, type FaceCrop } from '@emostream/contracts';

/** Settings of {@link EmbeddingPolicy}. */
export interface EmbeddingPolicyOptions {
  /** A face's second embedding comes this long after its first, ms of media time; the period a face near another keeps. */
  everyMs: number;
  /** The longest period a face the policy follows waits between embeddings, ms (at or below everyMs: a fixed period of everyMs). */
  maxEveryMs?: number;
  minFacePx: number;
  /** Another face whose centre is within this many face widths (the larger of the two) keeps a face at `everyMs`. */
  crowdFaceWidths?: number;
  /** A face this many times taller than at its last embedding is embedded again at once. */
  growRatio?: number;
  /**
   * A face that overlaps the face it follows from the previous frame by less than this IoU (it
   * jumped, see JUMP_IOU) is embedded again at once; default JUMP_IOU, 0: never.
   */
  jumpIou?: number;
}

/** What the policy remembers of one face of a camera's previous frame. */
interface Followed {
  box: Box;
  /** Its last embedding: media time, its box's height, whether it was cut by the frame's edge. */
  lastMs?: number;
  lastHeight: number;
  lastCut: boolean;
  /** Embeddings it got since it was new (the period doubles with each after the first). */
  count: number;
}

/** Per-camera memory of the previous frame's faces and of each one's last embedding. */
export class EmbeddingPolicy {
  private readonly cams = new Map<string, { faces: Followed[]; lastMs: number }>();
  private readonly maxEveryMs: number;
  private readonly crowdFaceWidths: number;
  private readonly growRatio: number;
  private readonly jumpIou: number;

  constructor(private readonly o: EmbeddingPolicyOptions) {
    if (!(o.everyMs > 0)) throw new Error(`everyMs must be a positive number of ms, got ${o.everyMs}`);
    this.maxEveryMs = Math.max(o.everyMs, o.maxEveryMs ?? o.everyMs);
    this.crowdFaceWidths = o.crowdFaceWidths ?? 2;
    this.growRatio = o.growRatio ?? 1.5;
    this.jumpIou = o.jumpIou ?? JUMP_IOU;
  }

  /** The period after a face's `count`-th embedding: everyMs, doubling, up to maxEveryMs; everyMs while crowded. */
  periodMs(count: number, crowded: boolean): number {
    if (crowded || count <= 1) return this.o.everyMs;
    return Math.min(this.maxEveryMs, this.o.everyMs * 2 ** Math.min(count - 1, 30));
  }

  /**
   * The faces of this frame to embed (the camera's frames must come in order; `mediaTimeMs` is the
   * frame's, `frame` its size). A camera's first frame embeds every face; so does a frame whose
   * media time went back (a file looped, a stream restarted).
   */
  select(cameraId: string, faces: readonly FaceCrop[], sceneCut: boolean, mediaTimeMs: number, frame: { width: number; height: number }): FaceCrop[] {
    const cam = this.cams.get(cameraId);
    // A cut, or media time that went back (a looped file, a restarted stream), starts the camera afresh.
    const fresh = !cam || sceneCut || mediaTimeMs < cam.lastMs;
    const previous = fresh ? [] : cam.faces;
    const boxes = faces.map((f) => f.box);
    // Each face follows at most one face of the previous frame (the shared one-to-one IoU matching).
    const match = matchByIou(boxes, previous.map((p) => p.box), 0.3);
    const chosen: FaceCrop[] = [];
    const next: Followed[] = faces.map((f, i) => {
      const best = match[i] === undefined ? undefined : previous[match[i]!];
      const cut = isCutByEdge(f.box, frame);
      const followed: Followed = best ? { ...best, box: f.box } : { box: f.box, lastHeight: f.box.height, lastCut: cut, count: 0 };
      if (f.box.height < this.o.minFacePx) return followed;
      const due = followed.lastMs === undefined
        || !withinMediaTime(mediaTimeMs, followed.lastMs, this.periodMs(followed.count, this.crowded(boxes, i)))
        || (followed.lastCut && !cut)
        || f.box.height >= this.growRatio * followed.lastHeight
        || (best !== undefined && iou(f.box, best.box) < this.jumpIou);
      if (!due) return followed;
      chosen.push(f);
      return { box: f.box, lastMs: mediaTimeMs, lastHeight: f.box.height, lastCut: cut, count: followed.count + 1 };
    });
    this.cams.set(cameraId, { faces: next, lastMs: mediaTimeMs });
    return chosen;
  }

  /** Whether another face of the frame is near face `i`: centres within crowdFaceWidths of the larger width. */
  private crowded(boxes: readonly Box[], i: number): boolean {
    const a = boxes[i];
    return boxes.some((b, j) => j !== i && Math.hypot((a.x + a.width / 2) - (b.x + b.width / 2), (a.y + a.height / 2) - (b.y + b.height / 2))
      < this.crowdFaceWidths * Math.max(a.width, b.width));
  }
}
