/**
 * Who a person is beyond their track: the per-camera galleries (a person who returns to a camera
 * gets their personId back) and, when `reidAcrossCameras` is on, the gallery across cameras (a
 * person who left one camera and appears on another is linked to who they were first seen as).
 * Memory only: embeddings are never in a snapshot, an event or a log.
 */
import type { PersonLink } from '@emostream/contracts';
import type { AggregatorConfig } from './config.js';
import { CrossCameraGallery, Gallery, type Likeness } from './gallery.js';
import type { TrackState } from './tracker.js';

/** A person who left, as the galleries need them. */
export interface LeftPerson {
  personId: string;
  sameAs?: PersonLink;
  /** Media time and capture time they were last seen. */
  lastSeenMs: number;
  lastSeenCapturedAtMs: number;
}

/** What {@link Identities.shouldWait} reads of a new person's track. */
export type WaitingTrack = Pick<TrackState, 'descriptor' | 'descriptorCut' | 'descriptorCount' | 'descriptorFacePx'>;

/** A track's likeness for the galleries (undefined before its first embedding). */
export const likenessOf = (t: Pick<TrackState, 'descriptor' | 'descriptorFacePx'>): Likeness | undefined =>
  t.descriptor ? { descriptor: t.descriptor, facePx: t.descriptorFacePx } : undefined;

/** The identity a person stands for: who they were first seen as. */
export const identityOf = (cameraId: string, p: { personId: string; sameAs?: PersonLink }): PersonLink => p.sameAs ?? { cameraId, personId: p.personId };

/** The aggregator's re-identification galleries. */
export class Identities {
  private galleries = new Map<string, Gallery>();
  private readonly across?: CrossCameraGallery;

  constructor(private readonly config: AggregatorConfig) {
    if (config.reidAcrossCameras) {
      this.across = new CrossCameraGallery({
        minSimilarity: config.reidAcrossCamerasMinSimilarity, smallFacePx: config.reidSmallFacePx, smallFaceMinSimilarity: config.reidSmallFaceMinSimilarity,
        maxPersons: config.reidAcrossCamerasMaxPersons, maxAgeMs: config.galleryMaxAgeMs,
      });
    }
  }

  /** Persons kept for linking across cameras (0 when it is off). */
  get acrossSize(): number {
    return this.across?.size ?? 0;
  }

  /** One camera's gallery of persons who left it. */
  gallery(cameraId: string): Gallery {
    let g = this.galleries.get(cameraId);
    if (!g) {
      const c = this.config;
      g = new Gallery({
        minSimilarity: c.reidMinSimilarity, smallFacePx: c.reidSmallFacePx, smallFaceMinSimilarity: c.reidSmallFaceMinSimilarity,
        maxPersons: c.galleryMaxPersons, maxAgeMs: c.galleryMaxAgeMs,
      });
      this.galleries.set(cameraId, g);
    }
    return g;
  }

  /**
   * Whether someone who left could be a new person of `cameraId` (other than the persons `present`
   * now): one who left this camera, or (when linking is on) another camera.
   */
  anyoneWhoLeft(cameraId: string, mediaTimeMs: number, capturedAtMs: number, present: ReadonlySet<string>): boolean {
    return this.gallery(cameraId).has(mediaTimeMs, present) || (this.across?.hasOther(cameraId, capturedAtMs) ?? false);
  }

  /**
   * Whether a new person of `cameraId`, due to be announced, should wait for another embedding
   * of their face (the tracker bounds the wait by reidWaitMs): one seen only cut by the frame's
   * edge while someone who left could be them ({@link anyoneWhoLeft}), or one who deserves a
   * second look: their one whole-face embedding resembles someone who left (other than the persons
   * `present`) at least reidSecondLookSimilarity, yet under the least similarity that pair must
   * reach (reidMinSimilarity, or reidSmallFaceMinSimilarity when either was seen only small).
   */
  shouldWait(cameraId: string, track: WaitingTrack, mediaTimeMs: number, capturedAtMs: number, present: ReadonlySet<string>): boolean {
    if (track.descriptorCut) return this.anyoneWhoLeft(cameraId, mediaTimeMs, capturedAtMs, present);
    const likeness = likenessOf(track);
    if (!likeness || (track.descriptorCount ?? 1) > 1) return false;
    const closest = this.gallery(cameraId).closest(likeness, mediaTimeMs, present);
    return closest !== undefined && closest.similarity >= this.config.reidSecondLookSimilarity && closest.similarity < closest.least;
  }

  /** A person left `cameraId`: remembered by their appearance, for this camera and (when on) the others. */
  left(cameraId: string, person: LeftPerson, track: Pick<TrackState, 'descriptor' | 'descriptorFacePx'>): void {
    const { descriptor, descriptorFacePx: facePx } = track;
    if (!descriptor) return;
    this.gallery(cameraId).add({ personId: person.personId, descriptor, facePx, leftAtMs: person.lastSeenMs, ...(person.sameAs ? { sameAs: person.sameAs } : {}) });
    this.across?.add({ cameraId, personId: person.personId, identity: identityOf(cameraId, person), descriptor, facePx, leftAtMs: person.lastSeenCapturedAtMs });
  }

  /** A person who left `cameraId` is back on it: their identity is present again, no other camera links to it. */
  returned(cameraId: string, person: { personId: string; sameAs?: PersonLink }): void {
    this.across?.forget(identityOf(cameraId, person));
  }

  /** A new person of `cameraId`: who they were first seen as on another camera, when linking is on and one resembles them. */
  link(cameraId: string, likeness: Likeness | undefined, capturedAtMs: number): PersonLink | undefined {
    if (!this.across || !likeness) return undefined;
    return this.across.take(cameraId, likeness, capturedAtMs)?.identity;
  }
}
