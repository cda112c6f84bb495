/**
 * Live timelines built from emotion events only (`person.appeared`, `emotion.changed`,
 * `person.left`), so the embedded run (analyze's events) and `serve api` (the `emotion-events`
 * topic) share one implementation. Bounded: per camera at most `maxPersonsPerCamera` persons, a
 * person who left is kept `maxAgeMs` after leaving (wall clock, the event's `at`), a present
 * person's segments that ended more than `maxAgeMs` before they were last seen (media time) are
 * dropped; events are deduplicated on `eventId`; the last `eventBuffer` events are kept for
 * Server-Sent Events clients that resume with `Last-Event-ID`.
 *
 * Events say when an emotion began, not how it went frame by frame: a segment's
 * `meanConfidence` is the confidence of the event that began it, and a person starts where
 * they were confirmed (`person.appeared`). analyze's timelines.json averages every frame.
 */
import { argmaxEmotion, SCHEMA_VERSION, type EmotionEvent, type EmotionState, type Segment, type Timelines } from '@emostream/contracts';

/** A person's open stretch, ended at `endMs`, as a segment. */
function segmentOf(open: NonNullable<PersonState['open']>, endMs: number): Segment {
  return { emotion: open.emotion, startMs: open.startMs, endMs: Math.max(open.startMs, endMs), meanConfidence: open.confidence, ...(open.likeliest ? { likeliest: open.likeliest } : {}) };
}

/** The bounds of a {@link LiveTimelines}. */
export interface LiveLimits {
  /** A person who left is forgotten this long after leaving (by the event's `at`), ms. */
  maxAgeMs: number;
  /** Persons kept per camera (the ones who left longest ago go first). */
  maxPersonsPerCamera: number;
  /** Events kept for resuming event streams. */
  eventBuffer: number;
  /** Event ids remembered for deduplication. */
  dedupWindow: number;
}

/** Defaults of {@link LiveLimits}: one hour, 500 persons, 10,000 events, 100,000 ids. */
export const DEFAULT_LIVE_LIMITS: LiveLimits = { maxAgeMs: 3_600_000, maxPersonsPerCamera: 500, eventBuffer: 10_000, dedupWindow: 100_000 };

/** One person as the API shows them. */
export interface LivePerson {
  cameraId: string;
  personId: string;
  firstSeenMs: number;
  /** Media time last seen: the `person.left` time, or (present) the camera's latest event time. */
  lastSeenMs: number;
  /** No `person.left` yet. */
  present: boolean;
  /** The current (or, after leaving, the last) emotion and its confidence. */
  emotion: EmotionState;
  confidence: number;
  segments: Segment[];
}

/** One camera as the API shows it. */
export interface LiveCamera {
  cameraId: string;
  /** Person ids present now. */
  present: string[];
  /** Persons kept (present and recently left). */
  persons: number;
  /** Events received (duplicates not counted). */
  events: number;
  /** Media time of the camera's latest event, ms. */
  mediaTimeMs: number;
  /** `at` of the camera's latest event; null while a camera of the run has sent none (see {@link LiveTimelines.watch}). */
  lastEventAt: string | null;
}

/** The stream position before the first event: `Last-Event-ID: 0` replays every event while none was dropped from the buffer. */
export const START_ID = '0';

/** An event in the resume buffer, with its stream id (`eventId`, or `n<seq>` for an event without one). */
export interface StreamedEvent {
  id: string;
  event: EmotionEvent;
}

interface PersonState {
  personId: string;
  firstSeenMs: number;
  /** Media time of the person's latest event. */
  lastEventMs: number;
  /** Wall clock (`at`) of the person's latest event, ms since the epoch. */
  lastAtMs: number;
  leftAtMs?: number;
  emotion: EmotionState;
  confidence: number;
  closed: Segment[];
  /** The segment going on (absent after leaving). */
  open?: { emotion: EmotionState; startMs: number; confidence: number; likeliest?: Segment['likeliest'] };
}

interface CameraState {
  persons: Map<string, PersonState>;
  /** Media time of the current run (the latest non-left event; `person.left` is dated earlier). */
  clockMs: number;
  events: number;
  lastAt: string | null;
  lastAtMs: number;
}

const byPersonNumber = (a: string, b: string) => Number(a.slice(1)) - Number(b.slice(1)) || a.localeCompare(b);
const wallMs = (at: string, fallback: number) => { const t = Date.parse(at); return Number.isFinite(t) ? t : fallback; };

/** Every camera's recent timelines, from events; see the module comment. */
export class LiveTimelines {
  readonly limits: LiveLimits;
  private readonly now: () => number;
  private readonly cams = new Map<string, CameraState>();
  /** Cameras listed whether or not they sent an event, and never forgotten (see {@link watch}). */
  private readonly watched = new Set<string>();
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private seenHead = 0;
  private buffer: Array<StreamedEvent & { seq: number }> = [];
  private readonly bufferSeq = new Map<string, number>();
  private seq = 0;
  private modelVersion?: string;
  private readonly listeners = new Set<(e: StreamedEvent) => void>();
  private counters = { events: 0, duplicates: 0, ignored: 0 };

  constructor(limits: Partial<LiveLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_LIVE_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
    this.now = now;
  }

  /** Events applied, duplicates dropped, and events about unknown persons ignored. */
  get stats(): { events: number; duplicates: number; ignored: number } {
    return { ...this.counters };
  }

  /** The stream id of the latest event (undefined before the first). */
  get lastEventId(): string | undefined {
    return this.buffer.at(-1)?.id;
  }

  /** Applies one event; false when its `eventId` was seen already (nothing changes then). */
  push(e: EmotionEvent): boolean {
    if (e.eventId !== undefined) {
      if (this.seen.has(e.eventId)) { this.counters.duplicates++; return false; }
      this.remember(e.eventId);
    }
    this.counters.events++;
    this.modelVersion = e.modelVersion;
    this.apply(e);
    const item = { id: e.eventId ?? `n${this.seq + 1}`, event: e, seq: ++this.seq };
    this.buffer.push(item);
    this.bufferSeq.set(item.id, item.seq);
    if (this.buffer.length > this.limits.eventBuffer) {
      const drop = this.buffer.length - this.limits.eventBuffer;
      for (const d of this.buffer.slice(0, drop)) this.bufferSeq.delete(d.id);
      this.buffer = this.buffer.slice(drop);
    }
    this.prune(e.cameraId);
    for (const l of this.listeners) l({ id: item.id, event: e });
    return true;
  }

  /** Calls `listener` with each new event (after the state took it in); returns the unsubscribe. */
  subscribe(listener: (e: StreamedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** The buffered events after the one with stream id `id`; undefined when `id` is not (or no longer) in the buffer. */
  eventsAfter(id: string): StreamedEvent[] | undefined {
    const seq = id === START_ID ? (this.buffer.length === 0 || this.buffer[0].seq === 1 ? 0 : undefined) : this.bufferSeq.get(id);
    if (seq === undefined) return undefined;
    return this.buffer.filter((b) => b.seq > seq).map(({ id: i, event }) => ({ id: i, event }));
  }

  /**
   * Lists these cameras from now on, before their first event too (no one present, `lastEventAt`
   * null), and keeps them listed however long they stay quiet: the cameras of an `analyze` run.
   */
  watch(cameraIds: Iterable<string>): void {
    for (const id of cameraIds) {
      this.watched.add(id);
      if (!this.cams.has(id)) this.cams.set(id, { persons: new Map(), clockMs: 0, events: 0, lastAt: null, lastAtMs: this.now() });
    }
  }

  /** Whether the camera has state. */
  hasCamera(cameraId: string): boolean {
    this.pruneAll();
    return this.cams.has(cameraId);
  }

  /** The cameras, in id order. */
  cameras(): LiveCamera[] {
    this.pruneAll();
    return [...this.cams.keys()].sort().map((cameraId) => {
      const c = this.cams.get(cameraId)!;
      const present = [...c.persons.values()].filter((p) => p.open).map((p) => p.personId).sort(byPersonNumber);
      return { cameraId, present, persons: c.persons.size, events: c.events, mediaTimeMs: c.clockMs, lastEventAt: c.lastAt };
    });
  }

  /** The persons of one camera (or every camera), those last seen at or after `sinceMs` (media time) only. */
  persons(cameraId?: string, sinceMs = 0): LivePerson[] {
    this.pruneAll();
    const ids = cameraId === undefined ? [...this.cams.keys()].sort() : this.cams.has(cameraId) ? [cameraId] : [];
    return ids.flatMap((id) => {
      const c = this.cams.get(id)!;
      return [...c.persons.keys()].sort(byPersonNumber).map((pid) => this.view(id, c, c.persons.get(pid)!))
        .filter((p) => p.lastSeenMs >= sinceMs);
    });
  }

  /** The timelines.json document of what is kept now. */
  timelines(): Timelines {
    const cameras: Timelines['cameras'] = {};
    for (const p of this.persons()) {
      const cam = (cameras[p.cameraId] ??= { persons: {} });
      cam.persons[p.personId] = { firstSeenMs: p.firstSeenMs, lastSeenMs: p.lastSeenMs, segments: p.segments };
    }
    for (const c of this.cams.keys()) cameras[c] ??= { persons: {} };
    return { schemaVersion: SCHEMA_VERSION, modelVersion: this.modelVersion ?? 'unknown', cameras };
  }

  private remember(id: string): void {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length - this.seenHead > this.limits.dedupWindow) this.seen.delete(this.seenOrder[this.seenHead++]);
    if (this.seenHead > 4096 && this.seenHead * 2 > this.seenOrder.length) { this.seenOrder.splice(0, this.seenHead); this.seenHead = 0; }
  }

  private apply(e: EmotionEvent): void {
    const t = e.mediaTimeMs;
    const at = wallMs(e.at, this.now());
    let c = this.cams.get(e.cameraId);
    if (!c) this.cams.set(e.cameraId, (c = { persons: new Map(), clockMs: t, events: 0, lastAt: e.at, lastAtMs: at }));
    c.events++;
    c.lastAt = e.at;
    c.lastAtMs = at;
    // person.left is dated when the person was last seen (earlier than the frame that ended
    // them); any other event earlier than the clock starts a new run of the camera.
    c.clockMs = e.type === 'person.left' ? Math.max(c.clockMs, t) : t;
    let p = c.persons.get(e.personId);
    if (e.type === 'person.left' && !p) { this.counters.ignored++; return; }
    // Media time before the person's last event: a new run reusing the id (start afresh).
    if (p && t < p.lastEventMs && e.type !== 'person.left') { c.persons.delete(e.personId); p = undefined; }
    if (!p) {
      p = { personId: e.personId, firstSeenMs: t, lastEventMs: t, lastAtMs: at, emotion: e.emotion, confidence: e.confidence, closed: [] };
      c.persons.set(e.personId, p);
    }
    const wasOpen = p.open;
    p.lastEventMs = Math.max(p.lastEventMs, t);
    p.lastAtMs = at;
    p.emotion = e.emotion;
    p.confidence = e.confidence;
    if (e.type === 'person.left') {
      if (wasOpen) p.closed.push(segmentOf(wasOpen, t));
      p.open = undefined;
      p.leftAtMs = t;
      return;
    }
    // appeared (also a returning person, after a gap) or changed: the emotion from now on.
    if (wasOpen && wasOpen.emotion === e.emotion) return;
    if (wasOpen) p.closed.push(segmentOf(wasOpen, t));
    // An uncertain stretch's best guess: the likeliest emotion of the event that began it.
    p.open = { emotion: e.emotion, startMs: t, confidence: e.confidence, ...(e.emotion === 'uncertain' ? { likeliest: argmaxEmotion(e.probabilities).emotion } : {}) };
    p.leftAtMs = undefined;
  }

  private view(cameraId: string, c: CameraState, p: PersonState): LivePerson {
    const lastSeenMs = p.open ? Math.max(p.lastEventMs, c.clockMs) : p.leftAtMs ?? p.lastEventMs;
    const segments = p.closed.map((s) => ({ ...s }));
    if (p.open) segments.push(segmentOf(p.open, lastSeenMs));
    return {
      cameraId, personId: p.personId, firstSeenMs: p.firstSeenMs, lastSeenMs, present: p.open !== undefined,
      emotion: p.emotion, confidence: p.confidence, segments,
    };
  }

  private pruneAll(): void {
    for (const id of [...this.cams.keys()]) this.prune(id);
  }

  /** Applies the bounds to one camera. */
  private prune(cameraId: string): void {
    const c = this.cams.get(cameraId);
    if (!c) return;
    const now = this.now();
    const { maxAgeMs, maxPersonsPerCamera } = this.limits;
    for (const [id, p] of c.persons) {
      if (!p.open && now - p.lastAtMs > maxAgeMs) { c.persons.delete(id); continue; }
      if (p.open) {
        const from = Math.max(p.lastEventMs, c.clockMs) - maxAgeMs;
        if (p.closed.length && p.closed[0].endMs < from) p.closed = p.closed.filter((s) => s.endMs >= from);
      }
    }
    if (c.persons.size > maxPersonsPerCamera) {
      // Those who left first, longest ago first; then present persons silent the longest.
      const all = [...c.persons.values()];
      const oldest = (a: PersonState, b: PersonState) => a.lastAtMs - b.lastAtMs;
      const victims = [...all.filter((p) => !p.open).sort(oldest), ...all.filter((p) => p.open).sort(oldest)];
      for (const p of victims.slice(0, c.persons.size - maxPersonsPerCamera)) c.persons.delete(p.personId);
    }
    if (c.persons.size === 0 && now - c.lastAtMs > maxAgeMs && !this.watched.has(cameraId)) this.cams.delete(cameraId);
  }
}
