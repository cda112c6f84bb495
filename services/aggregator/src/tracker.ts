/** Multi-face tracker for one camera: faces in successive frames → stable person tracks. */
import { iou, isCutByEdge, JUMP_IOU, type Box } from '@emostream/contracts';
import { solveAssignment } from './assignment.js';
import type { AggregatorConfig } from './config.js';

/** The part of the configuration the tracker reads. */
export type TrackerConfig = Pick<AggregatorConfig,
  'maxMissMs' | 'personTtlMs' | 'iouThreshold' | 'maxJumpFaceWidths' | 'maxSizeRatio' |
  'confirmHits' | 'confirmWindowFrames' | 'appearanceWeight' | 'minAppearanceSimilarity' | 'jumpMinAppearanceSimilarity' | 'reidCutFaces' | 'reidWaitMs'>;

/** One track: plain data, so that a tracker's state can be snapshotted as JSON. */
export interface TrackState {
  /** Internal id, unique within the tracker (tentative tracks have one too). */
  key: number;
  /** `p1`, `p2`… given when the track is confirmed; never reused within a run. */
  personId?: string;
  status: 'tentative' | 'confirmed';
  /** The last observed box. */
  box: Box;
  /** Velocity of the box centre, pixels per ms of media time. */
  vx: number;
  vy: number;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Frames in which a face matched this track. */
  hits: number;
  /** Frames of the camera since the track was born, this one included. */
  ageFrames: number;
  /** Unit-length running mean of the appearance descriptors, when the caller supplies them. */
  descriptor?: number[];
  /** The descriptor holds only faces cut by the frame's edge (with `reidCutFaces: 'whole-first'`). */
  descriptorCut?: boolean;
  /** Embeddings averaged into the descriptor (since the first whole face's replaced cut ones). */
  descriptorCount?: number;
  /** Height (px of the frame) of the largest face whose embedding is in the descriptor. */
  descriptorFacePx?: number;
}

/** A tracker's whole state (JSON-serialisable). */
export interface TrackerState {
  tracks: TrackState[];
  nextKey: number;
  nextPerson: number;
  lastTimeMs?: number;
}

/** What an {@link FaceTracker.update} may know besides the boxes. */
export interface UpdateContext {
  /** The frame's size, px: a face whose box reaches its edge is cut by it ({@link isCutByEdge}). */
  frame?: { width: number; height: number };
  /**
   * Whether a track due for confirmation should rather wait (stay tentative, up to `reidWaitMs`
   * after it was first seen) for another embedding: e.g. one seen only cut by the frame's edge
   * while someone who left could be it, to be recognised on a whole face rather than a sliver.
   */
  mayWait?: (t: TrackState) => boolean;
}

/** What one {@link FaceTracker.update} did. */
export interface TrackerUpdate {
  /** Per detection (same order): the track it now belongs to (matched, or a new tentative one). */
  tracks: TrackState[];
  /** Tracks confirmed in this frame: a person appeared. */
  confirmed: TrackState[];
  /** Confirmed tracks evicted in this frame after `personTtlMs` without a face: a person left. */
  evicted: TrackState[];
  /** Tentative tracks given up (a false face, or one seen too rarely). */
  dropped: TrackState[];
}

/** Not a match. */
const FORBIDDEN = 1e9;
/** Tentative tracks lose ties against confirmed ones. */
const TENTATIVE_PENALTY = 0.05;
/** A lost track (coasting time over) is re-acquired only where nothing else fits better. */
const LOST_PENALTY = 0.5;
/** Weight of the new measurement in the velocity estimate (an alpha-beta filter's beta). */
const VELOCITY_GAIN = 0.5;
/** Weight of a new appearance descriptor in the track's running descriptor. */
const DESCRIPTOR_GAIN = 0.3;

/** The boxes' intersection over union and the edge test (the shared definitions, re-exported for the tracker's callers). */
export { iou, isCutByEdge };

/** Cosine similarity of two vectors (0 when either is all zeros or their lengths differ). */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

function unit(v: readonly number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n > 0 ? v.map((x) => x / n) : [...v];
}

/**
 * Where a track is expected at `timeMs`: constant-velocity extrapolation while it may coast
 * (up to `maxMissMs` after it was last seen); a lost track stays where it was last seen.
 */
export function predictBox(track: TrackState, timeMs: number, maxMissMs: number): Box {
  const dt = timeMs - track.lastSeenMs;
  if (dt <= 0 || dt > maxMissMs) return track.box;
  return { ...track.box, x: track.box.x + track.vx * dt, y: track.box.y + track.vy * dt };
}

/**
 * The cost of giving face `box` to `track` at `timeMs` (lower is better), or `Infinity` when
 * they cannot belong together. Combines overlap with the motion prediction, centre distance in
 * face widths, size change and (when both have one) appearance. A face that looks like someone
 * else does not continue the track, nor one that jumped (overlap under JUMP_IOU) and does not
 * clearly look like the track's person, unless either likeness is of a face cut by the frame's
 * edge (`cut`, `track.descriptorCut`): a sliver's embedding weighs in the cost but vetoes nothing.
 */
export function matchCost(track: TrackState, box: Box, timeMs: number, cfg: TrackerConfig, descriptor?: readonly number[], cut = false): number {
  const lost = timeMs - track.lastSeenMs > cfg.maxMissMs;
  const p = predictBox(track, timeMs, cfg.maxMissMs);
  const overlap = iou(p, box);
  const sizeRatio = Math.max(p.width / box.width, box.width / p.width);
  if (sizeRatio > cfg.maxSizeRatio) return Infinity;
  const dx = (p.x + p.width / 2) - (box.x + box.width / 2);
  const dy = (p.y + p.height / 2) - (box.y + box.height / 2);
  const jump = Math.hypot(dx, dy) / ((p.width + box.width) / 2);
  // A lost track's position is stale: only a face on the very spot re-acquires it.
  if (lost ? overlap < cfg.iouThreshold : overlap < cfg.iouThreshold && jump > cfg.maxJumpFaceWidths) return Infinity;
  let cost = (1 - overlap) + jump + Math.log(sizeRatio);
  if (descriptor && track.descriptor) {
    const sim = cosineSimilarity(track.descriptor, descriptor);
    // A face that jumped must look like the track's person, not merely unlike someone else.
    const least = overlap < JUMP_IOU ? Math.max(cfg.minAppearanceSimilarity, cfg.jumpMinAppearanceSimilarity) : cfg.minAppearanceSimilarity;
    if (sim < least && !cut && !track.descriptorCut) return Infinity;
    cost += cfg.appearanceWeight * (1 - sim);
  }
  if (track.status === 'tentative') cost += TENTATIVE_PENALTY;
  if (lost) cost += LOST_PENALTY;
  return cost;
}

/**
 * Tracks the faces of one camera. Each {@link update} takes one frame's face boxes at its media
 * time and assigns each to a track (optimal assignment over {@link matchCost}). A track is
 * tentative until seen in `confirmHits` of its first `confirmWindowFrames` frames, then it gets
 * a person id; it coasts on its velocity through misses up to `maxMissMs`, can be re-acquired
 * on its last spot until `personTtlMs`, and is then evicted.
 */
export class FaceTracker {
  private state: TrackerState;

  constructor(private readonly cfg: TrackerConfig, state?: TrackerState) {
    this.state = state ? structuredClone(state) : { tracks: [], nextKey: 1, nextPerson: 1 };
  }

  /** Open tracks (tentative and confirmed), oldest first. */
  get tracks(): readonly TrackState[] {
    return this.state.tracks;
  }

  /** Confirmed tracks still open. */
  get persons(): TrackState[] {
    return this.state.tracks.filter((t) => t.status === 'confirmed');
  }

  /**
   * Processes one frame. `descriptors`, when given, holds one appearance vector (or undefined)
   * per box. `identify`, when given, is asked for the person ids of the tracks being confirmed in
   * this frame, all at once (persons who return, told apart jointly); where it answers undefined,
   * or without it, the next number is taken.
   * With `reidCutFaces: 'whole-first'` and the frame's size in `ctx`, an embedding of a face cut by
   * the frame's edge counts in its track's descriptor only while no whole face's is known (the
   * first whole one replaces them). A track due for confirmation waits (up to `reidWaitMs` after it
   * was first seen) while `ctx.mayWait` says so.
   * Media time must not go backwards (the caller resets the tracker on a discontinuity).
   */
  update(timeMs: number, boxes: readonly Box[], descriptors?: readonly (readonly number[] | undefined)[], identify?: (ts: readonly TrackState[]) => readonly (string | undefined)[], ctx: UpdateContext = {}): TrackerUpdate {
    const s = this.state;
    if (s.lastTimeMs !== undefined && timeMs < s.lastTimeMs) {
      throw new Error(`tracker: media time went backwards (${timeMs} < ${s.lastTimeMs})`);
    }
    s.lastTimeMs = timeMs;
    const out: TrackerUpdate = { tracks: [], confirmed: [], evicted: [], dropped: [] };

    const alive: TrackState[] = [];
    for (const t of s.tracks) {
      t.ageFrames++;
      const missMs = timeMs - t.lastSeenMs;
      if (t.status === 'confirmed' && missMs > this.cfg.personTtlMs) out.evicted.push(t);
      else if (t.status === 'tentative' && missMs > this.cfg.maxMissMs) out.dropped.push(t);
      else alive.push(t);
    }

    const frame = this.cfg.reidCutFaces === 'whole-first' ? ctx.frame : undefined;
    const cut = boxes.map((b) => frame !== undefined && isCutByEdge(b, frame));
    const cost = alive.map((t) => boxes.map((b, j) => matchCost(t, b, timeMs, this.cfg, descriptors?.[j], cut[j])));
    const pairing = solveAssignment(cost, FORBIDDEN);
    const owner: (TrackState | undefined)[] = new Array(boxes.length).fill(undefined);
    pairing.forEach((j, i) => { if (j >= 0) owner[j] = alive[i]; });

    boxes.forEach((box, j) => {
      const d = descriptors?.[j];
      let t = owner[j];
      if (t) this.observe(t, box, timeMs);
      else {
        t = { key: s.nextKey++, status: 'tentative', box: { ...box }, vx: 0, vy: 0, firstSeenMs: timeMs, lastSeenMs: timeMs, hits: 1, ageFrames: 1 };
        alive.push(t);
      }
      if (d) addDescriptor(t, d, cut[j], box.height);
      out.tracks.push(t);
    });

    s.tracks = [];
    for (const t of alive) {
      if (t.status === 'tentative') {
        if (t.hits >= this.cfg.confirmHits) {
          if (timeMs - t.firstSeenMs < this.cfg.reidWaitMs && ctx.mayWait?.(t)) {
            s.tracks.push(t);
            continue;
          }
          t.status = 'confirmed';
          out.confirmed.push(t);
        } else if (t.ageFrames >= this.cfg.confirmWindowFrames) {
          out.dropped.push(t);
          continue;
        }
      }
      s.tracks.push(t);
    }
    const ids = out.confirmed.length > 0 ? identify?.(out.confirmed) : undefined;
    out.confirmed.forEach((t, i) => { t.personId = ids?.[i] ?? `p${s.nextPerson++}`; });
    return out;
  }

  /** Removes every open track (end of stream); returns the confirmed ones. */
  closeAll(): TrackState[] {
    const persons = this.persons;
    this.state.tracks = [];
    // The next stream may start its media time anew.
    delete this.state.lastTimeMs;
    return persons;
  }

  /**
   * A deep copy of the state, for {@link FaceTracker}'s constructor after a restart. Without
   * the appearance descriptors unless `withDescriptors`: a snapshot may be stored, descriptors
   * are biometric data (a restored track gets a new one from its next embedded face).
   */
  snapshot(withDescriptors = false): TrackerState {
    // Left out before the copy: a snapshot is taken before every chunk, and descriptors are long.
    if (withDescriptors) return structuredClone(this.state);
    return structuredClone({ ...this.state, tracks: this.state.tracks.map(({ descriptor: _d, descriptorCut: _c, descriptorCount: _n, descriptorFacePx: _p, ...t }) => t) });
  }

  private observe(t: TrackState, box: Box, timeMs: number): void {
    const dt = timeMs - t.lastSeenMs;
    if (dt > 0) {
      const mvx = ((box.x + box.width / 2) - (t.box.x + t.box.width / 2)) / dt;
      const mvy = ((box.y + box.height / 2) - (t.box.y + t.box.height / 2)) / dt;
      // The first measured velocity is taken as is; later ones are blended to damp detector jitter.
      const g = t.hits === 1 ? 1 : VELOCITY_GAIN;
      t.vx += g * (mvx - t.vx);
      t.vy += g * (mvy - t.vy);
    }
    t.box = { ...box };
    t.lastSeenMs = timeMs;
    t.hits++;
  }
}

/**
 * Adds a face's appearance descriptor to its track's running mean. A cut face's (`cut`: the box
 * reaches the frame's edge) counts only while the track has no whole face's: a sliver of a face
 * is a poor likeness, so the first whole one replaces the cut ones and later cut ones are ignored.
 */
function addDescriptor(t: TrackState, descriptor: readonly number[], cut: boolean, facePx: number): void {
  const u = unit(descriptor);
  if (!t.descriptor || t.descriptor.length !== u.length || (t.descriptorCut && !cut)) {
    t.descriptor = u;
    t.descriptorCount = 1;
    t.descriptorFacePx = facePx;
  } else if (cut && !t.descriptorCut) return;
  else {
    t.descriptor = unit(t.descriptor.map((x, i) => (1 - DESCRIPTOR_GAIN) * x + DESCRIPTOR_GAIN * u[i]));
    t.descriptorCount = (t.descriptorCount ?? 1) + 1;
    t.descriptorFacePx = Math.max(t.descriptorFacePx ?? 0, facePx);
  }
  if (cut) t.descriptorCut = true;
  else delete t.descriptorCut;
}
