/**
 * Pipeline throughput: embedded `analyze()` on the 720p clip (one face), a 720p clip with six
 * faces in every frame and the 640x360 sample, at the default --fps 10 and at the clip's full
 * rate, against Human's own per-frame loop on the same frames (and, on both 720p clips, with its
 * default caching) and against ffmpeg decoding alone.
 *
 * `BENCH_DETECTOR_SETTINGS` and `BENCH_CLASSIFIER_SETTINGS` (JSON, e.g. `{"tiles":"off"}`: analyze's
 * `--set detector.…` / `--set classifier.…`) run the pipeline with other settings than the
 * defaults; the rows then say which.
 */
import fs from 'node:fs';
import path from 'node:path';
import { analyze, type AnalyzeOptions, type AnalyzeResult } from '@emostream/pipeline';
import { analyzeOptions, type BenchContext, type Clip, type Row } from '../lib/context.js';
import { decodeOnly } from '../lib/ffmpeg.js';
import { benchAnalyzeSettings } from '../lib/embedded.js';
import { humanLoop, type HumanLoopResult } from '../lib/humanLoop.js';
import { ratio, sig } from '../lib/stats.js';

/** analyze's default sampling rate (its --fps default). */
const DEFAULT_FPS = 10;

/**
 * Runs of `analyze --fps 10` per clip (`BENCH_PIPELINE_REPEATS`, default 3; `--quick` 1): a run of
 * the 720p clip lasts about 8 s, and on this kind of shared 2-core machine single runs moved by
 * ±10% within minutes (3.81x to 4.59x, bench/RESULTS.md Session 32). The median run is the figure,
 * the spread goes beside it.
 */
function repeats(ctx: BenchContext): number {
  const raw = process.env.BENCH_PIPELINE_REPEATS;
  const n = raw === undefined ? (ctx.quick ? 1 : 3) : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new Error(`BENCH_PIPELINE_REPEATS must be a whole number from 1 to 20, got '${raw}'`);
  return n;
}

const fpsOf = (r: AnalyzeResult) => r.frames / (r.wallMs / 1000);

/** The figures of one clip. */
export interface ClipFigures {
  clip: string;
  fullFps: number;
  /** The median of the runs (by wall time); `runsWallMs`: every run's wall time, in order. */
  atDefaultFps: { fps: number; frames: number; faces: number; persons: number; wallMs: number; mediaMs: number; processedFps: number; realTimeFactor: number; runsWallMs: number[] };
  atFullRate: { fps: number; frames: number; faces: number; wallMs: number; mediaMs: number; processedFps: number; realTimeFactor: number };
  human: HumanLoopResult & { facesPerFrame: number };
  humanCached?: HumanLoopResult;
  decodeOnly: { frames: number; wallMs: number; fps: number };
  vsHuman: number | null;
  vsHumanCached: number | null;
  vsDecodeOnly: number | null;
}

async function benchClip(ctx: BenchContext, clip: Clip, withCached: boolean): Promise<ClipFigures> {
  const full = clip.fps;
  const out = fs.mkdtempSync(path.join(ctx.tmp, 'analyze-'));
  // --quick: only the first seconds of each clip.
  const dur = ctx.quick ? 3 : undefined;
  const frames = ctx.quick ? Math.round(3 * full) : clip.frames;
  ctx.log(`pipeline: ${clip.name}: ffmpeg decode only`);
  const dec = await decodeOnly(clip.file, { width: clip.width, height: clip.height, fps: full, frames: clip.frames });
  const opts = (fps: number): AnalyzeOptions => ({ ...analyzeOptions(ctx, out, fps, dur), ...benchAnalyzeSettings() });
  const runs: AnalyzeResult[] = [];
  for (let i = 0, n = repeats(ctx); i < n; i++) {
    ctx.log(`pipeline: ${clip.name}: analyze --fps ${DEFAULT_FPS} (run ${i + 1} of ${n})`);
    runs.push(await analyze(clip.file, opts(DEFAULT_FPS)));
  }
  const a10 = [...runs].sort((a, b) => a.wallMs - b.wallMs)[(runs.length - 1) >> 1];
  ctx.log(`pipeline: ${clip.name}: analyze --fps ${sig(full, 4)} (every frame)`);
  const aFull = await analyze(clip.file, opts(full));
  ctx.log(`pipeline: ${clip.name}: Human's own loop (no caching)`);
  const human = await humanLoop(ctx.rt, { file: clip.file, width: clip.width, height: clip.height, fps: full, cache: false, maxFrames: frames });
  let cached: HumanLoopResult | undefined;
  if (withCached) {
    ctx.log(`pipeline: ${clip.name}: Human's own loop (its default caching)`);
    cached = await humanLoop(ctx.rt, { file: clip.file, width: clip.width, height: clip.height, fps: full, cache: true, maxFrames: frames });
  }
  const fullFps = fpsOf(aFull);
  return {
    clip: clip.name,
    fullFps: full,
    atDefaultFps: {
      fps: DEFAULT_FPS, frames: a10.frames, faces: a10.faces, persons: a10.persons, wallMs: a10.wallMs, mediaMs: a10.mediaMs,
      processedFps: fpsOf(a10), realTimeFactor: a10.mediaMs / a10.wallMs, runsWallMs: runs.map((r) => r.wallMs),
    },
    atFullRate: { fps: full, frames: aFull.frames, faces: aFull.faces, wallMs: aFull.wallMs, mediaMs: aFull.mediaMs, processedFps: fullFps, realTimeFactor: aFull.mediaMs / aFull.wallMs },
    human: { ...human, facesPerFrame: human.faces / Math.max(1, human.frames + 1) },
    humanCached: cached,
    decodeOnly: { frames: dec.frames, wallMs: dec.wallMs, fps: dec.frames / (dec.wallMs / 1000) },
    vsHuman: ratio(fullFps, human.fps),
    vsHumanCached: cached ? ratio(fullFps, cached.fps) : null,
    vsDecodeOnly: ratio(fullFps, dec.frames / (dec.wallMs / 1000)),
  };
}

/** Runs the section; the 720p clip's figures are the headline keys. */
export async function pipelineSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const c720 = await benchClip(ctx, await ctx.clip720(), !ctx.quick);
  const group = await benchClip(ctx, await ctx.clip720Group(), !ctx.quick);
  const ham = await benchClip(ctx, ctx.clipHamilton(), false);
  const rows: Row[] = [];
  const { detectorSettings: settings, classifierSettings: classifier } = benchAnalyzeSettings();
  for (const c of [c720, group, ham]) {
    const s = `pipeline ${c.clip}${settings ? ` (detector ${JSON.stringify(settings)})` : ''}${classifier ? ` (classifier ${JSON.stringify(classifier)})` : ''}`;
    const d = c.atDefaultFps;
    const spread = d.runsWallMs.length > 1 ? `median of ${d.runsWallMs.length} runs (${d.runsWallMs.map((w) => `${sig(d.mediaMs / w, 3)}x`).join(', ')}); ` : '';
    rows.push(
      { section: s, figure: `real-time factor @ --fps ${DEFAULT_FPS} (default)`, value: `${sig(d.realTimeFactor, 3)}x`,
        detail: `${spread}${sig(d.processedFps, 3)} fps processed; ${d.frames} frames, ${(d.mediaMs / 1000).toFixed(1)} s media in ${(d.wallMs / 1000).toFixed(1)} s; ${d.faces} faces` },
      { section: s, figure: `real-time factor @ ${sig(c.fullFps, 4)} fps (every frame)`, value: `${sig(c.atFullRate.realTimeFactor, 3)}x`,
        detail: `${sig(c.atFullRate.processedFps, 3)} fps processed; ${c.atFullRate.frames} frames in ${(c.atFullRate.wallMs / 1000).toFixed(1)} s` },
      { section: s, figure: 'vsHuman (every frame, no caching)', value: `${sig(c.vsHuman, 3)}x`,
        detail: `Human detect+emotion loop ${sig(c.human.fps, 3)} fps over ${c.human.frames} frames (${sig(c.human.facesPerFrame, 2)} faces/frame)` },
    );
    if (c.humanCached) rows.push({ section: s, figure: 'vsHuman (Human with its default frame caching)', value: `${sig(c.vsHumanCached, 3)}x`, detail: `Human cached loop ${sig(c.humanCached.fps, 3)} fps` });
    rows.push({ section: s, figure: 'vsDecodeOnly (every frame)', value: `${sig(c.vsDecodeOnly, 3)}x`, detail: `ffmpeg decode+scale to RGB alone ${sig(c.decodeOnly.fps, 4)} fps` });
  }
  return {
    figures: {
      realTimeFactor: c720.atDefaultFps.realTimeFactor,
      realTimeFactorFullRate: c720.atFullRate.realTimeFactor,
      processedFps: c720.atDefaultFps.processedFps,
      processedFpsFullRate: c720.atFullRate.processedFps,
      humanFps: c720.human.fps,
      vsHuman: c720.vsHuman,
      vsHumanCached: c720.vsHumanCached,
      decodeOnlyFps: c720.decodeOnly.fps,
      vsDecodeOnly: c720.vsDecodeOnly,
      vsHumanGroup: group.vsHuman,
      vsHumanCachedGroup: group.vsHumanCached,
      pipeline: { clip720: c720, group720: group, hamilton: ham, ...benchAnalyzeSettings() },
    },
    rows,
  };
}
