/**
 * Re-identification: per camera, the appearance of persons who left recently, so that a person
 * who comes back (after leaving the picture, an occlusion or a scene cut) gets their `personId`
 * back; and, when linking across cameras is on, one gallery over all cameras, so that a person
 * who left one camera and appears on another is linked to who they were there. Bounded in count
 * and age; held in memory only (never in snapshots: embeddings are biometric data).
 */
import type { PersonLink } from '@emostream/contracts';
import { cosineSimilarity } from './tracker.js';

/** A person's likeness: their appearance and how large the faces it was taken from were. */
export interface Likeness {
  /** Unit-length running mean of the person's embeddings. */
  descriptor: readonly number[];
  /** Height (px of the frame) of the largest face among those embeddings, when known. */
  facePx?: number;
}

/** A person who left, as the gallery keeps them. */
export interface GalleryEntry {
  personId: string;
  /** Unit-length running mean of the person's embeddings. */
  descriptor: number[];
  /** Height (px) of the largest face among those embeddings, when known. */
  facePx?: number;
  /** Media time the person was last seen. */
  leftAtMs: number;
  /** Who the person was first seen as on another camera (linking across cameras), if linked. */
  sameAs?: PersonLink;
}

/** A person who left, recognised in a new one. */
export interface GalleryMatch {
  personId: string;
  similarity: number;
  sameAs?: PersonLink;
}

/** Settings of a {@link Gallery}. */
export interface GalleryOptions {
  /** Least cosine similarity for a new face to be recognised as a person who left. */
  minSimilarity: number;
  /**
   * A likeness whose faces were all under this height (px), on either side of a comparison, must
   * reach `smallFaceMinSimilarity` instead (when higher): a likeness from small faces is the less
   * certain one, so it is held to a stricter bar. Unset: every likeness is held to `minSimilarity`.
   */
  smallFacePx?: number;
  smallFaceMinSimilarity?: number;
  /** Persons kept at most (the oldest leave first). */
  maxPersons: number;
  /** How long a person who left stays recognisable, ms of media time. */
  maxAgeMs: number;
}

/** {@link GalleryOptions}' bar for two likenesses: `smallFaceMinSimilarity` (when higher) where either was seen only as a face under `smallFacePx`. */
function leastSimilarity(o: GalleryOptions, a: Likeness, b: Likeness): number {
  const { minSimilarity, smallFacePx, smallFaceMinSimilarity } = o;
  if (smallFacePx === undefined || smallFaceMinSimilarity === undefined) return minSimilarity;
  const small = (l: Likeness) => l.facePx !== undefined && l.facePx < smallFacePx;
  return small(a) || small(b) ? Math.max(minSimilarity, smallFaceMinSimilarity) : minSimilarity;
}

/** One camera's gallery. */
export class Gallery {
  private entries: GalleryEntry[] = [];
  constructor(private readonly o: GalleryOptions) {}

  get size(): number {
    return this.entries.length;
  }

  /** Remembers a person who left (replacing an older entry of the same id). */
  add(e: GalleryEntry): void {
    this.entries = this.entries.filter((x) => x.personId !== e.personId);
    this.entries.push(e);
    while (this.entries.length > this.o.maxPersons) this.entries.shift();
  }

  /** Drops persons who left more than `maxAgeMs` before `nowMs`. */
  prune(nowMs: number): void {
    this.entries = this.entries.filter((e) => nowMs - e.leftAtMs <= this.o.maxAgeMs);
  }

  /** Whether anyone who left (other than `exclude`, e.g. persons present now) is still recognisable at `nowMs`. */
  has(nowMs: number, exclude: ReadonlySet<string> = new Set()): boolean {
    this.prune(nowMs);
    return this.entries.some((e) => !exclude.has(e.personId));
  }

  /**
   * The person who left whose appearance is closest to `likeness`, when at least the pair's least
   * similarity ({@link leastFor}; not one of `exclude`, e.g. persons present now); taken out of the gallery.
   */
  take(likeness: Likeness, nowMs: number, exclude: ReadonlySet<string> = new Set()): GalleryMatch | undefined {
    return this.takeMany([likeness], nowMs, exclude)[0];
  }

  /**
   * {@link take} for several new persons at once (e.g. everyone after a cut back to a shot), told
   * apart jointly: the most alike pair of a new person and one who left is matched first, then
   * the most alike of the rest, and so on; a new person whose own likeness is clearer wins over
   * one who merely resembles them too. Those matched are taken out of the gallery.
   */
  takeMany(likenesses: readonly (Likeness | undefined)[], nowMs: number, exclude: ReadonlySet<string> = new Set()): (GalleryMatch | undefined)[] {
    this.prune(nowMs);
    const pairs: { i: number; e: number; similarity: number }[] = [];
    likenesses.forEach((l, i) => {
      if (!l) return;
      this.entries.forEach((e, j) => {
        if (exclude.has(e.personId)) return;
        const similarity = cosineSimilarity(e.descriptor, l.descriptor);
        if (similarity >= this.leastFor(l, e)) pairs.push({ i, e: j, similarity });
      });
    });
    pairs.sort((a, b) => b.similarity - a.similarity);
    const out: (GalleryMatch | undefined)[] = likenesses.map(() => undefined);
    const used = new Set<number>();
    for (const p of pairs) {
      if (out[p.i] || used.has(p.e)) continue;
      used.add(p.e);
      const e = this.entries[p.e];
      out[p.i] = { personId: e.personId, similarity: p.similarity, ...(e.sameAs ? { sameAs: e.sameAs } : {}) };
    }
    this.entries = this.entries.filter((_, j) => !used.has(j));
    return out;
  }

  /**
   * The person who left (other than `exclude`) most like `likeness`, whatever the likeness: its
   * similarity and the least similarity that pair must reach to be recognised; undefined when
   * nobody is left to compare.
   */
  closest(likeness: Likeness, nowMs: number, exclude: ReadonlySet<string> = new Set()): { similarity: number; least: number } | undefined {
    this.prune(nowMs);
    let best: { similarity: number; least: number } | undefined;
    for (const e of this.entries) {
      if (exclude.has(e.personId)) continue;
      const similarity = cosineSimilarity(e.descriptor, likeness.descriptor);
      if (!best || similarity > best.similarity) best = { similarity, least: this.leastFor(likeness, e) };
    }
    return best;
  }

  /** The least similarity for a new likeness and a person who left to be the same person: stricter when either was seen only as a small face. */
  leastFor(a: Likeness, b: Likeness): number {
    return leastSimilarity(this.o, a, b);
  }

  clear(): void {
    this.entries = [];
  }
}

/** An identity's key: the camera and person it was first seen as. */
const keyOf = (l: PersonLink) => `${l.cameraId}\n${l.personId}`;

/** A person who left a camera, as the gallery across cameras keeps them. */
export interface CrossCameraEntry {
  /** The camera they left and their personId there. */
  cameraId: string;
  personId: string;
  /** Who they were first seen as (themselves, unless they were linked to a person of another camera). */
  identity: PersonLink;
  /** Unit-length running mean of the person's embeddings. */
  descriptor: number[];
  /** Height (px) of the largest face among those embeddings, when known. */
  facePx?: number;
  /** Capture time they were last seen (media times of different cameras are not comparable), ms. */
  leftAtMs: number;
}

/**
 * Persons who left any camera, for linking a new person of another camera to them. One entry per
 * identity (the last camera they left); bounded in count (the oldest are forgotten first) and in
 * age (capture time); memory only.
 */
export class CrossCameraGallery {
  private entries: CrossCameraEntry[] = [];
  constructor(private readonly o: GalleryOptions) {}

  get size(): number {
    return this.entries.length;
  }

  /** Remembers a person who left (replacing the entry of the same identity). */
  add(e: CrossCameraEntry): void {
    this.forget(e.identity);
    this.entries.push(e);
    while (this.entries.length > this.o.maxPersons) this.entries.shift();
  }

  /** Forgets an identity (it is present on a camera again). */
  forget(identity: PersonLink): void {
    const key = keyOf(identity);
    this.entries = this.entries.filter((x) => keyOf(x.identity) !== key);
  }

  /** Drops persons who left more than `maxAgeMs` (capture time) before `nowMs`. */
  prune(nowMs: number): void {
    this.entries = this.entries.filter((e) => nowMs - e.leftAtMs <= this.o.maxAgeMs);
  }

  /** Whether anyone who left a camera other than `cameraId` is still linkable at `nowMs` (capture time). */
  hasOther(cameraId: string, nowMs: number): boolean {
    this.prune(nowMs);
    return this.entries.some((e) => e.cameraId !== cameraId);
  }

  /**
   * The identity, seen last on a camera other than `cameraId`, whose appearance is closest to
   * `likeness` when at least the pair's least similarity (`minSimilarity`, or the small faces' bar
   * as the per-camera {@link Gallery} has it); taken out of the gallery (one identity links one
   * new person).
   */
  take(cameraId: string, likeness: Likeness, nowMs: number): { identity: PersonLink; similarity: number } | undefined {
    this.prune(nowMs);
    let best: { i: number; similarity: number } | undefined;
    this.entries.forEach((e, i) => {
      if (e.cameraId === cameraId) return;
      const similarity = cosineSimilarity(e.descriptor, likeness.descriptor);
      if (similarity >= leastSimilarity(this.o, likeness, e) && (!best || similarity > best.similarity)) best = { i, similarity };
    });
    if (!best) return undefined;
    const [e] = this.entries.splice(best.i, 1);
    return { identity: e.identity, similarity: best.similarity };
  }
}
