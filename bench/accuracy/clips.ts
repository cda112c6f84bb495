/** The temporal part of the through-pipeline measurement: short clips of one face through the detector, classifier and aggregator, scored per person. */
import { firstValueFrom, from, toArray } from 'rxjs';
import { EMOTIONS, type EmotionsMessage, type Frame } from '@emostream/contracts';
import { mulberry32, silentLogger } from '@emostream/runtime';
import { detectFaces, parseDetectorConfig, type DetectorConfig } from '@emostream/detector';
import { classifyBatch, ClassificationReuse } from '@emostream/classifier';
import { Aggregator, parseAggregatorConfig, smoothProbabilities, type SmoothedProbabilities } from '@emostream/aggregator';
import { readGray, type FerFace } from './faces.js';
import { clipPoses, DEFAULT_MOTION, patchBox, placeFaces } from './geometry.js';
import { matchBoxes } from './match.js';
import { applyLighting, composeLitFrame, drawLook, drawTint, facePatch, filmFrame, type FrameLook } from './render.js';
import { argmaxAt, dominantEmotion, type ClipRecord } from './score.js';
import { DEFAULT_RENDER, derivedSeed, frameOf, memoDetector, pickWindow, settingKey, stage, type CropSetting, type MeasureDeps, type RenderOptions } from './measure.js';

/** Options of {@link measureClips}. */
export interface ClipsOptions {
  name: string;
  faces: readonly FerFace[];
  still: Map<string, number>;
  seed: number;
  /** Frames per clip and their rate (1.5 s at 10 fps: 15 frames). */
  frames: number;
  fps: number;
  settings: readonly CropSetting[];
  render?: RenderOptions;
}

/** What {@link measureClips} measured. */
export interface ClipsResult {
  records: Map<string, ClipRecord[]>;
  msRender: number;
  msDetect: number;
  msPipeline: number;
}

/** Detector settings of a crop setting for clips: the pipeline's defaults otherwise (cuts, embeddings when an embedder is given). */
function clipConfig(s: CropSetting): DetectorConfig {
  return parseDetectorConfig({ marginFraction: s.marginFraction, cropOffsetY: s.cropOffsetY, align: s.align });
}

/**
 * The aggregator settings the clips run through: each live decision and, for the hysteresis, each
 * smoothing space, and the timelines as analyze writes them (decided with hindsight). The one the
 * aggregator's defaults use gives the clip's main figures.
 */
const AGGREGATOR_VARIANTS: Array<{ key: string; config: object }> = [
  { key: 'changePoint', config: { liveDecoding: 'changePoint' } },
  ...(['probability', 'log'] as const).map((space) => ({ key: `hysteresis-${space}`, config: { liveDecoding: 'hysteresis', smoothingSpace: space } })),
  { key: 'hindsight', config: { timelineHindsight: true } },
];
const DEFAULTS = parseAggregatorConfig({});
const DEFAULT_KEY = DEFAULTS.liveDecoding === 'changePoint' ? 'changePoint' : `hysteresis-${DEFAULTS.smoothingSpace}`;

/**
 * A fresh aggregator over a clip's classified frames: persons reported, the main person's (the one
 * seen longest; a split track or a false face is shorter) dominant emotion, and at how many of the
 * detected frames (media times) that person's emotion state was the label.
 */
function personOf(classified: EmotionsMessage[], cameraId: string, config: object, detectedAt: number[], label: number) {
  const agg = new Aggregator({ config: parseAggregatorConfig(config) });
  for (const m of classified) agg.push(m);
  agg.end();
  const persons = Object.values(agg.timelines().cameras[cameraId]?.persons ?? {});
  const main = persons.reduce<(typeof persons)[number] | undefined>((a, p) => (!a || p.lastSeenMs - p.firstSeenMs > a.lastSeenMs - a.firstSeenMs ? p : a), undefined);
  const stateAt = (t: number) => main?.segments.find((sg) => sg.startMs <= t && t <= sg.endMs)?.emotion;
  return {
    persons: persons.length,
    dominant: main ? dominantEmotion(main.segments) : undefined,
    framesStateCorrect: detectedAt.filter((t) => stateAt(t) === EMOTIONS[label]).length,
  };
}

/**
 * One clip per face: a static camera (one background window, one look), the face moving a
 * little (geometry.ts `clipPoses`), fresh sensor noise in every frame, each frame filmed (blur,
 * noise, JPEG) on its own. Per crop setting the clip goes
 * through the detector stage (one camera per clip), the classifier and a fresh `Aggregator` with
 * its default settings; the person's dominant emotion is the one the report names
 * ({@link dominantEmotion}: the largest share of time).
 */
export async function measureClips(deps: MeasureDeps, o: ClipsOptions): Promise<ClipsResult> {
  const ro = o.render ?? DEFAULT_RENDER;
  const { width, height } = ro.placement;
  const st = await stage(derivedSeed(o.seed, 0, 7), ro);
  const det = memoDetector(deps.detector);
  const configs = o.settings.map((s) => ({ key: settingKey(s), config: clipConfig(s) }));
  const records = new Map<string, ClipRecord[]>(configs.map((c) => [c.key, []]));
  let msRender = 0, msPipeline = 0;
  for (let i = 0; i < o.faces.length; i++) {
    const face = o.faces[i];
    const t0 = performance.now();
    const rng = mulberry32(derivedSeed(o.seed, i, 5));
    const [base] = placeFaces(rng, 1, ro.placement);
    const poses = clipPoses(rng, base, o.frames, { ...DEFAULT_MOTION, width, height });
    const background = pickWindow(rng, st, ro);
    const tint = drawTint(rng);
    const look: FrameLook = drawLook(rng);
    const { gray, side } = await readGray(face.file);
    const cameraId = `accuracy-${o.name}-${i}`;
    const lit = Buffer.from(background);
    applyLighting(lit, width, height, look);
    const frames: Frame[] = [];
    for (let f = 0; f < o.frames; f++) {
      const canvas = composeLitFrame(lit, background, width, height, await facePatch(gray, side, poses[f].side), poses[f], tint, ro.feather, look);
      const filmed = await filmFrame(canvas, width, height, look, st.table, derivedSeed(o.seed, i * 1000 + f, 6));
      frames.push(frameOf(cameraId, f, o.fps, filmed.rgb, ro));
    }
    msRender += performance.now() - t0;
    const t1 = performance.now();
    for (const c of configs) {
      const msgs = await firstValueFrom(from(frames).pipe(
        detectFaces({ detector: det, logger: silentLogger, config: c.config, embedder: deps.embedder }), toArray()));
      const classified = await classifyBatch(deps.model, msgs, { reuse: deps.clipReuse ? new ClassificationReuse(deps.clipReuse) : undefined });
      const detectedAt: number[] = [];
      let framesCorrect = 0;
      let smoothed: SmoothedProbabilities | undefined;
      const smoothedTop: Array<{ p: number; right: boolean }> = [];
      const frameProbs: number[][] = [];
      classified.forEach((m, f) => {
        const mr = matchBoxes([patchBox(poses[f])], m.faces.map((x) => x.box));
        if (!mr.matches.length) return;
        detectedAt.push(m.frame.mediaTimeMs);
        const p = m.faces[mr.matches[0].detection].probabilities;
        frameProbs.push(EMOTIONS.map((e) => p[e]));
        if (argmaxAt(frameProbs[frameProbs.length - 1]) === face.label) framesCorrect++;
        smoothed = smoothProbabilities(smoothed, p, m.frame.mediaTimeMs, DEFAULTS.smoothingMs, DEFAULTS.smoothingSpace, DEFAULTS.smoothingWarmup);
        const sp = EMOTIONS.map((e) => smoothed!.probabilities[e]);
        const top = argmaxAt(sp);
        smoothedTop.push({ p: sp[top], right: top === face.label });
      });
      // The aggregator with each setting on the same classified frames (the defaults' is the main figure).
      const runs = AGGREGATOR_VARIANTS.map((v) => ({ ...v, run: personOf(classified, cameraId, v.config, detectedAt, face.label) }));
      const main = runs.find((r) => r.key === DEFAULT_KEY)!.run;
      records.get(c.key)!.push({
        id: face.id, label: face.label, side: base.side, still: o.still.get(face.id)!,
        persons: main.persons, dominant: main.dominant,
        frames: o.frames, framesDetected: detectedAt.length, framesCorrect,
        variants: Object.fromEntries(runs.map((r) => [r.key, { dominant: r.run.dominant, framesStateCorrect: r.run.framesStateCorrect }])),
        smoothedTop, frameProbs,
      });
    }
    msPipeline += performance.now() - t1;
    if ((i + 1) % 10 === 0 || i + 1 === o.faces.length) deps.log(`accuracy ${o.name}: ${i + 1}/${o.faces.length} clips`);
  }
  return { records, msRender, msDetect: det.ms, msPipeline: msPipeline - det.ms };
}
