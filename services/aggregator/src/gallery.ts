/**
 * Re-identification: per camera, the appearance of persons who left recently, so that a person
 * who comes back (after leaving the picture, an occlusion or a scene cut) gets their `personId`
 * back. Bounded in count and age; held in memory only (never in snapshots: embeddings are
 * biometric data).
 */
import { cosineSimilarity } from './tracker.js';

/** A person who left, as the gallery keeps them. */
export interface GalleryEntry {
  personId: string;
  /** Unit-length running mean of the person's embeddings. */
  descriptor: number[];
  /** Media time the person was last seen. */
  leftAtMs: number;
}

/** Settings of a {@link Gallery}. */
export interface GalleryOptions {
  /** Least cosine similarity for a new face to be recognised as a person who left. */
  minSimilarity: number;
  /** Persons kept at most (the oldest leave first). */
  maxPersons: number;
  /** How long a person who left stays recognisable, ms of media time. */
  maxAgeMs: number;
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

  /**
   * The person who left whose appearance is closest to `descriptor`, when at least
   * `minSimilarity` (and not one of `exclude`, e.g. persons present now); taken out of the gallery.
   */
  take(descriptor: readonly number[], nowMs: number, exclude: ReadonlySet<string> = new Set()): { personId: string; similarity: number } | undefined {
    this.prune(nowMs);
    let best: { i: number; similarity: number } | undefined;
    this.entries.forEach((e, i) => {
      if (exclude.has(e.personId)) return;
      const similarity = cosineSimilarity(e.descriptor, descriptor);
      if (similarity >= this.o.minSimilarity && (!best || similarity > best.similarity)) best = { i, similarity };
    });
    if (!best) return undefined;
    const [e] = this.entries.splice(best.i, 1);
    return { personId: e.personId, similarity: best.similarity };
  }

  clear(): void {
    this.entries = [];
  }
}
