/**
 * Memory over a long stream: the 720p clip looped into a long file, read as fast as the
 * embedded pipeline goes (default --fps 10 sampling), RSS, heap and TensorFlow.js's tensor count
 * sampled every second. Growth = mean of the last tenth of samples / mean of the first tenth − 1.
 * Default: a bounded soak (150 s of wall time); --long: 30+ minutes of media to the end.
 */
import path from 'node:path';
import type { BenchContext, Row } from '../lib/context.js';
import { runEmbedded } from '../lib/embedded.js';
import { loopClip } from '../lib/ffmpeg.js';
import { growth, sig } from '../lib/stats.js';

const FPS = 10;

/** Runs the section. */
export async function memorySection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const clip = await ctx.clip720();
  // --long: 31 min of media (60 passes of the 31 s clip), to the end; else a bounded soak.
  const loops = ctx.long ? Math.ceil((31 * 60_000) / clip.durationMs) : ctx.quick ? 6 : 12;
  const stopAfterMs = ctx.long ? undefined : ctx.quick ? 15_000 : 150_000;
  const file = path.join(ctx.tmp, `soak-x${loops}.mp4`);
  await loopClip(clip.file, file, loops);
  const samples: Array<{ tMs: number; frames: number; rssMB: number; heapMB: number; externalMB: number; tensors: number }> = [];
  let frames = 0;
  const t0 = performance.now();
  const sample = () => {
    if (frames === 0) return; // start once the pipeline runs (models loaded, first frame out)
    const m = process.memoryUsage();
    samples.push({
      tMs: performance.now() - t0, frames, rssMB: m.rss / 2 ** 20, heapMB: m.heapUsed / 2 ** 20, externalMB: (m.external + m.arrayBuffers) / 2 ** 20,
      tensors: ctx.rt.tf.memory().numTensors,
    });
  };
  const timer = setInterval(sample, 1000);
  ctx.log(`memory: ${((loops * clip.durationMs) / 60_000).toFixed(1)} min of 720p media at --fps ${FPS}${stopAfterMs ? `, stopped after ${stopAfterMs / 1000} s` : ' to the end (--long)'}`);
  let r;
  try {
    r = await runEmbedded({
      source: file, fps: FPS, detector: await ctx.detector(), model: await ctx.emotionModel(), backend: ctx.rt.provider, stopAfterMs,
      onEmotions: () => { frames++; },
    });
  } finally {
    clearInterval(timer);
  }
  sample();
  const rss = samples.map((s) => s.rssMB);
  const tensors = samples.map((s) => s.tensors);
  const figures = {
    rssGrowth: growth(rss),
    heapGrowth: growth(samples.map((s) => s.heapMB)),
    tensorGrowth: tensors.length ? tensors[tensors.length - 1] - tensors[0] : null,
    memory: {
      mode: ctx.long ? 'long (30+ min of media)' : 'bounded soak', fps: FPS, frames: r.frames, mediaMs: r.mediaMs, wallMs: r.wallMs,
      stages: r.stages,
      rssFirstMB: rss[0] ?? null, rssLastMB: rss[rss.length - 1] ?? null, rssMaxMB: rss.length ? Math.max(...rss) : null,
      tensorsFirst: tensors[0] ?? null, tensorsLast: tensors[tensors.length - 1] ?? null, tensorsMax: tensors.length ? Math.max(...tensors) : null,
      samples: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 60)) === 0 || i === samples.length - 1),
    },
  };
  const rows: Row[] = [
    {
      section: 'memory', figure: `rssGrowth (last tenth / first tenth − 1)`, value: figures.rssGrowth === null ? 'n/a' : `${sig(figures.rssGrowth * 100, 3)} %`,
      detail: `RSS ${sig(rss[0], 4)} → ${sig(rss[rss.length - 1], 4)} MB (max ${sig(figures.memory.rssMaxMB, 4)}) over ${r.frames} frames, ${(r.mediaMs / 60_000).toFixed(1)} min media in ${(r.wallMs / 60_000).toFixed(1)} min`,
    },
    {
      section: 'memory', figure: 'tensor count first → last', value: `${tensors[0]} → ${tensors[tensors.length - 1]}`,
      detail: `stage times on this run: detector ${sig(r.stages.detectMsPerFrame, 3)} ms/frame, classifier ${sig(r.stages.inferenceMsPerBatch, 3)} ms/batch of ${sig(r.stages.facesPerBatch, 2)} faces, ${sig(r.stages.wallMsPerFrame, 3)} ms wall/frame; heap growth ${figures.heapGrowth === null ? 'n/a' : `${sig(figures.heapGrowth * 100, 3)} %`}; ${samples.length} samples, 1 per second`,
    },
  ];
  return { figures, rows };
}
