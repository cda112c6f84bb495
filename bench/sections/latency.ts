/**
 * Frame → result latency on a live camera: the 720p clip looped by a real RTSP server, read at
 * 10 fps by the embedded pipeline. Latency = wall time the result is out − the frame's
 * capturedAtMs (when ingest had the decoded frame), for every frame's emotions message and for
 * every event.
 */
import type { BenchContext, Row } from '../lib/context.js';
import { runEmbedded } from '../lib/embedded.js';
import { startLoopingCamera } from '../lib/rtsp.js';
import { percentile, sig } from '../lib/stats.js';

const FPS = 10;
// The first second of results carries the RTSP/decoder start-up: not steady-state latency.
const WARMUP_FRAMES = 10;

/** Length of the windows whose p95 shows whether a queue builds up over the run. */
const WINDOW_MS = 10_000;

/** The p95 latency of the frames captured in each `windowMs` from the first one (windows with no frame: null). */
export function windowP95(timed: readonly { atMs: number; ms: number }[], windowMs: number): (number | null)[] {
  if (timed.length === 0) return [];
  const t0 = Math.min(...timed.map((t) => t.atMs));
  const buckets: number[][] = [];
  for (const t of timed) (buckets[Math.floor((t.atMs - t0) / windowMs)] ??= []).push(t.ms);
  return Array.from(buckets, (b) => (b ? percentile(b, 95) ?? null : null));
}

/** Runs the section. */
export async function latencySection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const clip = await ctx.clip720();
  const cam = await startLoopingCamera(clip.file);
  const seconds = ctx.quick ? 12 : 45;
  const frameLat: number[] = [];
  /** Each timed frame: when ingest had it (ms from the first) and its latency, for the trend below. */
  const timed: { atMs: number; ms: number }[] = [];
  const eventLat: number[] = [];
  let seen = 0;
  try {
    ctx.log(`latency: live RTSP camera (720p looped), --fps ${FPS}, ${seconds} s`);
    const r = await runEmbedded({
      source: cam.url, fps: FPS, detector: await ctx.detector(), model: await ctx.emotionModel(), backend: ctx.rt.provider,
      stopAfterMs: seconds * 1000,
      onEmotions: (m) => {
        if (seen++ < WARMUP_FRAMES) return;
        const ms = Date.now() - m.frame.capturedAtMs;
        frameLat.push(ms);
        timed.push({ atMs: m.frame.capturedAtMs, ms });
      },
      onEvent: (e) => { if (seen > WARMUP_FRAMES) eventLat.push(Date.now() - Date.parse(e.at)); },
    });
    const all = [...frameLat, ...eventLat];
    const figures = {
      latencyP50Ms: percentile(all, 50) ?? null,
      latencyP95Ms: percentile(all, 95) ?? null,
      latencyP99Ms: percentile(all, 99) ?? null,
      latency: {
        mode: 'embedded (one process); the same over Kafka is distributedLatency (distributed section)',
        source: 'RTSP (GStreamer, looping the 720p clip), TCP', fps: FPS, seconds,
        frames: r.frames, drops: r.drops, samples: all.length, frameSamples: frameLat.length, eventSamples: eventLat.length,
        framesP50Ms: percentile(frameLat, 50) ?? null, framesP95Ms: percentile(frameLat, 95) ?? null, framesP99Ms: percentile(frameLat, 99) ?? null,
        eventsP50Ms: percentile(eventLat, 50) ?? null, eventsP95Ms: percentile(eventLat, 95) ?? null,
        achievedFps: r.frames / (r.wallMs / 1000),
        // A queue building up shows as a rising p95 from one window to the next.
        windowsP95Ms: windowP95(timed, WINDOW_MS),
        windowMs: WINDOW_MS,
      },
    };
    const rows: Row[] = [{
      section: 'latency', figure: 'latencyP95Ms (frame → emotions/event, live 10 fps RTSP, embedded)',
      value: `${sig(figures.latencyP95Ms, 3)} ms`,
      detail: `p50 ${sig(figures.latencyP50Ms, 3)} ms, p99 ${sig(figures.latencyP99Ms, 3)} ms over ${frameLat.length} frames + ${eventLat.length} events; ${r.drops} frames dropped; `
        + `frames' p95 per ${WINDOW_MS / 1000} s: ${figures.latency.windowsP95Ms.map((v) => sig(v, 3)).join(', ')} ms`,
    }];
    return { figures, rows };
  } finally {
    await cam.stop();
  }
}
