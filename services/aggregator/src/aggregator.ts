/** The aggregator's state machine: classified frames in, person events and timelines out. */
import {
  SCHEMA_VERSION, unpackEmbedding, type ClassifiedFace, type EmotionEvent, type EmotionsMessage,
  type FrameRef, type Timelines,
} from '@emostream/contracts';
import { silentLogger, type Logger, type PipelineMetrics } from '@emostream/runtime';
import { parseAggregatorConfig, type AggregatorConfig, type AggregatorConfigInput } from './config.js';
import { addToTimeline, emptyTimeline } from './timeline.js';
import { hindsightOptionsOf, recordPersonFrame, segmentsOf, type HindsightOptions } from './hindsight.js';
import type { TrackState } from './tracker.js';
import { Identities, likenessOf } from './identities.js';
import { emotionStep, personEvent, type PersonState } from './person.js';
import { isRedelivery, markProcessed } from './redelivery.js';
import { forgetOldest, newCamera, restoreCamera, snapshotCamera, type AggregatorSnapshot, type Camera, type FinishedPerson } from './state.js';

export type { AggregatorSnapshot, CameraSnapshot } from './state.js';

/**
 * Computes an appearance vector for a face, used by the tracker to tell people apart when motion
 * and overlap cannot, and to recognise a person who returns. Default: the face's embedding from
 * the detector (`face.embedding`). Return `undefined` when unknown.
 */
export type AppearanceDescriptor = (face: ClassifiedFace, frame: FrameRef) => readonly number[] | undefined;

/** What an {@link Aggregator} needs. */
export interface AggregatorDeps {
  /** Configuration (parsed with defaults when a partial object is given). */
  config?: AggregatorConfigInput;
  logger?: Logger;
  metrics?: PipelineMetrics;
  /** Appearance descriptor of a face (default: its embedding, when the detector made one). */
  appearance?: AppearanceDescriptor;
  /**
   * Called for each face of a frame that belongs to a confirmed person (after the frame's
   * events): which face of the message (and its index) is which person. Used for opt-in
   * thumbnails (the face carries its crop when the embedded classifier was asked to keep it).
   */
  onPersonFace?: (frame: FrameRef, faceIndex: number, personId: string, face: ClassifiedFace & { crop?: Uint8Array }) => void;
  /** Wall clock for the latency metric only (tracking never reads it); `Date.now` by default. */
  now?: () => number;
}

/** Counters of what the aggregator dropped or did, for the run report. */
export interface AggregatorStats {
  frames: number;
  duplicates: number;
  faces: number;
  discontinuities: number;
  /** Frames flagged as the first after a hard cut. */
  sceneCuts: number;
  /** Persons recognised as returning (same personId again). */
  returning: number;
  /** New persons linked to one who left another camera (`reidAcrossCameras`). */
  linked: number;
}

function checkVersion(snapshot: AggregatorSnapshot): void {
  if (snapshot?.snapshotVersion !== 1) throw new Error(`aggregator: unsupported snapshot version ${String(snapshot?.snapshotVersion)}`);
}

const byPersonNumber = (a: string, b: string) => Number(a.slice(1)) - Number(b.slice(1)) || a.localeCompare(b);

/**
 * Per camera, tracks the faces of each frame, smooths each person's probabilities, applies
 * hysteresis to the dominant emotion, keeps timelines and returns the events each frame causes.
 * Plain synchronous code: the stage operator {@link aggregate} is a thin wrapper around it.
 *
 * Time is the frames' media time; the wall clock is read only for the latency metric. A frame
 * whose (seq, capturedAtMs) is not newer than the camera's last processed one is a redelivery and
 * is dropped, so at-least-once input never doubles an event.
 */
export class Aggregator {
  readonly config: AggregatorConfig;
  private readonly log: Logger;
  private readonly metrics?: PipelineMetrics;
  private readonly appearance?: AppearanceDescriptor;
  private readonly onPersonFace?: AggregatorDeps['onPersonFace'];
  private readonly now: () => number;
  private cams = new Map<string, Camera>();
  /** Cameras whose state changed since {@link takeChanged} was last asked. */
  private changed = new Set<string>();
  /** Persons who left recently, per camera and across cameras (memory only: never in a snapshot). */
  private readonly identities: Identities;
  /** How timelines are decided with hindsight; undefined when `timelineHindsight` is off. */
  private readonly hindsight?: HindsightOptions;
  private modelVersion?: string;
  private maxCapturedAtMs?: number;
  private counters: AggregatorStats = { frames: 0, duplicates: 0, faces: 0, discontinuities: 0, sceneCuts: 0, returning: 0, linked: 0 };

  constructor(deps: AggregatorDeps = {}) {
    this.config = parseAggregatorConfig(deps.config ?? {});
    this.log = (deps.logger ?? silentLogger).child({ stage: 'aggregator' });
    this.metrics = deps.metrics;
    this.appearance = deps.appearance;
    this.onPersonFace = deps.onPersonFace;
    this.now = deps.now ?? Date.now;
    this.identities = new Identities(this.config);
    this.hindsight = hindsightOptionsOf(this.config);
  }

  /** What was processed and dropped so far. */
  get stats(): AggregatorStats {
    return { ...this.counters };
  }

  /** Cameras with state. */
  get cameras(): string[] {
    return [...this.cams.keys()];
  }

  /** Processes one frame's classified faces; returns the events it causes, in order. */
  push(msg: EmotionsMessage): EmotionEvent[] {
    const { frame } = msg;
    const cam = this.camera(frame.cameraId);
    const s = cam.state;
    if (isRedelivery(s, frame)) {
      this.counters.duplicates++;
      this.metrics?.framesDropped.inc({ camera: frame.cameraId, reason: 'duplicate' });
      this.log.debug('duplicate frame dropped', { camera: frame.cameraId, seq: frame.seq, lastSeq: s.lastSeq });
      return [];
    }
    const events: EmotionEvent[] = [];
    this.changed.add(frame.cameraId);
    if (s.lastMediaTimeMs !== undefined && frame.mediaTimeMs < s.lastMediaTimeMs) {
      // A new ingest run (reconnect, restart) may restart media time: close everyone, keep numbering.
      this.counters.discontinuities++;
      this.log.warn('media time went backwards: closing open persons', { camera: frame.cameraId, mediaTimeMs: frame.mediaTimeMs, lastMediaTimeMs: s.lastMediaTimeMs });
      events.push(...this.closeCamera(frame.cameraId));
      this.identities.gallery(frame.cameraId).clear();
    } else if (frame.sceneCut) {
      // A hard cut: nobody continues by position; the faces after it are identified afresh
      // (a person seen before the cut gets their id back through the gallery).
      this.counters.sceneCuts++;
      events.push(...this.closeCamera(frame.cameraId));
    }
    markProcessed(s, frame);
    s.lastMediaTimeMs = frame.mediaTimeMs;
    this.modelVersion = msg.modelVersion;
    this.counters.frames++;
    this.counters.faces += msg.faces.length;
    this.metrics?.framesProcessed.inc({ camera: frame.cameraId });
    events.push(...this.endIdleCameras(frame));

    const t = frame.mediaTimeMs;
    const descriptors = msg.faces.map((f) => (this.appearance ? this.appearance(f, frame) : f.embedding ? unpackEmbedding(f.embedding) : undefined));
    const gallery = this.identities.gallery(frame.cameraId);
    const present = () => new Set(cam.tracker.persons.map((p) => p.personId!));
    const returning = new Map<number, PersonState['sameAs']>();
    const identify = (tracks: readonly TrackState[]) => gallery.takeMany(tracks.map(likenessOf), t, present()).map((found, i) => {
      if (found) returning.set(tracks[i].key, found.sameAs);
      return found?.personId;
    });
    // A new face seen only cut by the frame's edge, or almost like someone who left, waits for another embedding.
    const mayWait = (track: TrackState) => this.identities.shouldWait(frame.cameraId, track, t, frame.capturedAtMs, present());
    const u = cam.tracker.update(t, msg.faces.map((f) => f.box), descriptors, identify, { frame, mayWait });

    for (const track of u.evicted) events.push(...this.finish(frame.cameraId, track));
    for (const track of u.dropped) delete s.persons[track.key];

    u.tracks.forEach((track, j) => {
      const face = msg.faces[j];
      const prev = s.persons[track.key];
      const { smoothed, step, changePoint } = emotionStep(prev, face.probabilities, t, this.config);
      const person: PersonState = prev ?? {
        smoothed, dominant: step.state, timeline: emptyTimeline(),
        firstSeenMs: t, lastSeenMs: t, lastSeenCapturedAtMs: frame.capturedAtMs, modelVersion: msg.modelVersion,
      };
      person.smoothed = smoothed;
      person.dominant = step.state;
      person.changePoint = changePoint; // none under the hysteresis (a snapshot of either goes on under the other)
      person.lastSeenMs = t;
      person.lastSeenCapturedAtMs = frame.capturedAtMs;
      person.modelVersion = msg.modelVersion;
      addToTimeline(person.timeline, t, smoothed.probabilities, step.state, step.changed);
      recordPersonFrame(person, t, face.probabilities, this.hindsight);
      s.persons[track.key] = person;
      if (step.changed && person.personId) {
        events.push(personEvent('emotion.changed', frame.cameraId, person, t, frame.capturedAtMs));
      }
    });

    for (const track of u.confirmed) {
      const person = s.persons[track.key];
      person.personId = track.personId;
      person.firstSeenMs = track.firstSeenMs;
      if (returning.has(track.key)) {
        this.counters.returning++;
        person.returning = true;
        // Their timeline goes on: the segments before they left (unless already forgotten), then the new ones.
        const before = s.finished[track.personId!];
        const sameAs = returning.get(track.key) ?? before?.sameAs;
        if (sameAs) person.sameAs = sameAs;
        this.identities.returned(frame.cameraId, { personId: track.personId!, sameAs });
        if (before) {
          person.priorSegments = before.segments;
          person.firstSeenMs = before.firstSeenMs;
          delete s.finished[track.personId!];
        }
      } else {
        const sameAs = this.identities.link(frame.cameraId, likenessOf(track), frame.capturedAtMs);
        if (sameAs) { person.sameAs = sameAs; this.counters.linked++; }
      }
      events.push(personEvent('person.appeared', frame.cameraId, person, t, frame.capturedAtMs));
    }

    if (this.onPersonFace) {
      u.tracks.forEach((track, j) => { if (track.personId) this.onPersonFace!(frame, j, track.personId, msg.faces[j]); });
    }
    this.metrics?.personsActive.set({ camera: frame.cameraId }, cam.tracker.persons.length);
    this.observe(events, frame.capturedAtMs);
    return events;
  }

  /**
   * End of stream for one camera (or all): `person.left` for every open person, state reset
   * (person numbering and duplicate detection are kept, so ids are never reused in a run).
   * Cameras are ended in id order, persons in id order.
   */
  end(cameraId?: string): EmotionEvent[] {
    const ids = cameraId === undefined ? [...this.cams.keys()].sort() : this.cams.has(cameraId) ? [cameraId] : [];
    const events = ids.flatMap((id) => this.closeCamera(id));
    this.observe(events);
    return events;
  }

  /** The timelines so far: finished persons and open ones up to their last frame. */
  timelines(): Timelines {
    const cameras: Timelines['cameras'] = {};
    for (const [cameraId, { state }] of [...this.cams].sort(([a], [b]) => a.localeCompare(b))) {
      const persons: Record<string, FinishedPerson> = { ...state.finished };
      for (const p of Object.values(state.persons)) {
        if (p.personId) persons[p.personId] = { firstSeenMs: p.firstSeenMs, lastSeenMs: p.lastSeenMs, segments: segmentsOf(p, this.hindsight), ...(p.sameAs ? { sameAs: p.sameAs } : {}) };
      }
      const sorted: typeof persons = {};
      for (const id of Object.keys(persons).sort(byPersonNumber)) sorted[id] = structuredClone(persons[id]);
      cameras[cameraId] = { persons: sorted };
    }
    return { schemaVersion: SCHEMA_VERSION, modelVersion: this.modelVersion ?? 'unknown', cameras };
  }

  /**
   * What a restart needs (see {@link CameraSnapshot}), a copy, JSON-serialisable: of every camera,
   * or of those named (none: only the run-wide fields). Persons who left are not in it.
   */
  snapshot(cameraIds?: Iterable<string>): AggregatorSnapshot {
    const cameras: AggregatorSnapshot['cameras'] = {};
    for (const id of cameraIds ?? this.cams.keys()) {
      const cam = this.cams.get(id);
      if (cam) cameras[id] = snapshotCamera(cam);
    }
    return {
      snapshotVersion: 1, cameras,
      ...(this.modelVersion !== undefined ? { modelVersion: this.modelVersion } : {}),
      ...(this.maxCapturedAtMs !== undefined ? { maxCapturedAtMs: this.maxCapturedAtMs } : {}),
    };
  }

  /** Replaces the state with a snapshot's; frames up to each camera's last processed one are then dropped as duplicates. */
  restore(snapshot: AggregatorSnapshot): void {
    checkVersion(snapshot);
    this.cams.clear();
    this.restoreCameras(snapshot, Object.keys(snapshot.cameras));
  }

  /**
   * Replaces only the cameras `cameraIds` with the snapshot's (one the snapshot lacks is removed)
   * and the run-wide fields with the snapshot's; the other cameras are untouched. The persons who
   * left and the re-identification gallery (memory only) are kept. Undoes a chunk whose
   * transaction failed, from the records last written.
   */
  restoreCameras(snapshot: AggregatorSnapshot, cameraIds: Iterable<string>): void {
    checkVersion(snapshot);
    for (const id of cameraIds) {
      const snap = snapshot.cameras[id];
      if (snap) this.cams.set(id, restoreCamera(snap, this.config, this.cams.get(id)?.state.finished));
      else this.cams.delete(id);
      this.changed.delete(id);
    }
    this.modelVersion = snapshot.modelVersion;
    this.maxCapturedAtMs = snapshot.maxCapturedAtMs;
  }

  /** The cameras whose state changed since the last call (their state records need writing), in id order. */
  takeChanged(): string[] {
    const ids = [...this.changed].sort();
    this.changed.clear();
    return ids;
  }

  private camera(cameraId: string) {
    let cam = this.cams.get(cameraId);
    if (!cam) this.cams.set(cameraId, (cam = newCamera(this.config)));
    return cam;
  }

  /** Other cameras whose frames stopped long ago (by capture time) are ended. */
  private endIdleCameras(frame: FrameRef): EmotionEvent[] {
    this.maxCapturedAtMs = Math.max(this.maxCapturedAtMs ?? -Infinity, frame.capturedAtMs);
    if (this.config.cameraIdleMs <= 0) return [];
    const events: EmotionEvent[] = [];
    for (const [id, { state, tracker }] of this.cams) {
      if (id === frame.cameraId || tracker.tracks.length === 0) continue;
      if (this.maxCapturedAtMs - (state.lastCapturedAtMs ?? Infinity) > this.config.cameraIdleMs) {
        this.log.info('camera idle: closing its persons', { camera: id });
        events.push(...this.closeCamera(id));
      }
    }
    return events;
  }

  private closeCamera(cameraId: string): EmotionEvent[] {
    const cam = this.cams.get(cameraId);
    if (!cam) return [];
    this.changed.add(cameraId);
    const open = cam.tracker.closeAll().sort((a, b) => byPersonNumber(a.personId!, b.personId!));
    const events = open.flatMap((track) => this.finish(cameraId, track));
    cam.state.persons = {};
    this.metrics?.personsActive.set({ camera: cameraId }, 0);
    return events;
  }

  /** A confirmed track ended: its `person.left` event; its timeline moves to the finished ones. */
  private finish(cameraId: string, track: TrackState): EmotionEvent[] {
    const s = this.cams.get(cameraId)!.state;
    const person = s.persons[track.key];
    delete s.persons[track.key];
    if (!person?.personId) return [];
    s.finished[person.personId] = { firstSeenMs: person.firstSeenMs, lastSeenMs: person.lastSeenMs, segments: segmentsOf(person, this.hindsight), ...(person.sameAs ? { sameAs: person.sameAs } : {}) };
    forgetOldest(s.finished, this.config.finishedMaxPersons);
    this.identities.left(cameraId, person as PersonState & { personId: string }, track);
    this.log.debug('person left', { camera: cameraId, personId: person.personId, lastSeenMs: person.lastSeenMs });
    // Dated when the person was last seen, which is where the timeline ends.
    return [personEvent('person.left', cameraId, person, person.lastSeenMs, person.lastSeenCapturedAtMs)];
  }

  private observe(events: EmotionEvent[], frameCapturedAtMs?: number): void {
    if (!this.metrics) return;
    const now = this.now();
    for (const e of events) {
      this.metrics.eventsEmitted.inc({ camera: e.cameraId, type: e.type });
      const captured = frameCapturedAtMs ?? Date.parse(e.at);
      this.metrics.latencySeconds.observe({ camera: e.cameraId }, Math.max(0, now - captured) / 1000);
    }
  }
}
