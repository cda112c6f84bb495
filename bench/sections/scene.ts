/**
 * Scene accuracy and identities: seeded synthetic scenes (bench/scene/) rendered to video, run
 * through the embedded pipeline, and scored against their ground truth. Five kinds of scene:
 * `basic` (the four scenes of every earlier run: 3 faces, a late entrant, a crossing), `cut`
 * (hard cuts, a different subject on the same spot right after one, a cut back), `return`
 * (people who leave for 2-6 s and come back elsewhere, smaller; a newcomer), `crowd` (8-15
 * faces of 20-60 px under a slow zoom and pan) and `reframe` (a wide shot of small faces, a
 * close-up of one of them, one of a stranger, the wide shot again). Each scene runs twice, with the tile pass off
 * (the detector before it: `tiles: 'off'` and the size and count limits it had) and with the
 * default settings, as `analyze` runs. Human's emotion model runs the basic scenes as a reference.
 * The default run's messages are then replayed through the aggregator with other settings
 * (re-identification thresholds; cuts or embeddings alone) and the embedder is timed.
 */
import path from 'node:path';
import { argmaxEmotion, unpackEmbedding, type EmotionEvent, type EmotionsMessage, type Timelines } from '@emostream/contracts';
import { Aggregator, parseAggregatorConfig, type AggregatorConfigInput } from '@emostream/aggregator';
import { parseDetectorConfig, type DetectorConfig, type DetectorConfigInput, type DetectorImage, type FaceDetector } from '@emostream/detector';
import { loadEmotionModel, type EmotionModel } from '@emostream/classifier';
import { DATA_DIR, type BenchContext, type Row } from '../lib/context.js';
import { runEmbedded } from '../lib/embedded.js';
import { mean, sig } from '../lib/stats.js';
import { generateScene, type FaceAsset, type Scene, type SceneKind } from '../scene/generate.js';
import { generateCrowdScene, generateCutScene, generateReframeScene, generateReturnScene } from '../scene/sceneKinds.js';
import { frameTimeMs, groundTruthAt } from '../scene/groundTruth.js';
import { frameBackground, loadCkPlusCatalogue, renderFrame, renderScene } from '../scene/render.js';
import {
  embeddingSimilarities, matchedFaces, mergeScores, scoreScene, similarityStats, summarise,
  type EmbeddingSample, type ObservedFrame, type SceneScore,
} from '../scene/score.js';

/** Seeds of the scene set (fixed: the same scenes in every run). The basic ones are every earlier run's. */
const seedsOf = (kind: SceneKind, xs: number[]) => process.env[`BENCH_SCENE_${kind.toUpperCase()}_SEEDS`]?.split(',').filter(Boolean).map(Number) ?? xs;
/** Seeds per kind (`BENCH_SCENE_<KIND>_SEEDS=1,2`, or empty for none, replaces a kind's; figures of other seeds are not comparable). */
const SEEDS = { basic: seedsOf('basic', [101, 202, 303, 404]), cut: seedsOf('cut', [511, 522]), return: seedsOf('return', [611, 622, 633]), crowd: seedsOf('crowd', [711, 722]), reframe: seedsOf('reframe', [811, 822]) };
/** The reframe scenes' wide-shot face heights, px (`BENCH_SCENE_REFRAME_PX=26,38`; default 50-70). */
const REFRAME_PX = process.env.BENCH_SCENE_REFRAME_PX?.split(',').map(Number) as [number, number] | undefined;

const KINDS: SceneKind[] = ['basic', 'cut', 'return', 'crowd', 'reframe'];

/** The detector's limits before the tile pass (raised with it: a crowd has up to 15 faces, of 20 px and up). */
const BEFORE_TILES = { minFaceSizePx: 32, maxFaces: 10 };

/** The face-height bins of the small-faces figures, px (lower edges; the last is open). */
const COARSE_BINS = [20, 40, 60, 100];

/**
 * The two detector settings compared: the detector before the tile pass (tiles off, and the
 * limits it had then) and the defaults. Identities (cuts, embeddings) are on in both; the
 * replays below take them out one at a time. `BENCH_SCENE_BEFORE` (JSON detector settings, e.g.
 * `{"detectEveryMs":0}`) replaces the first with the defaults plus those settings (its
 * figures keep the key `off`/`tilesOff`; rows and `scene.settings` name it).
 */
const BEFORE = process.env.BENCH_SCENE_BEFORE ? JSON.parse(process.env.BENCH_SCENE_BEFORE) as DetectorConfigInput : undefined;
const CONFIGS = [
  BEFORE
    ? { key: 'off', label: `(${JSON.stringify(BEFORE)})`, detector: parseDetectorConfig(BEFORE) }
    : { key: 'off', label: '(tiles off)', detector: parseDetectorConfig({ tiles: 'off', ...BEFORE_TILES }) },
  { key: 'default', label: '(default)', detector: parseDetectorConfig({}) },
] as const;
type ConfigKey = (typeof CONFIGS)[number]['key'];

/** The scenes of a run (`--quick`: one of each kind, shorter where the kind allows). */
function scenesOf(catalogue: FaceAsset[], quick: boolean): Scene[] {
  const q = <T>(xs: T[]) => (quick ? xs.slice(0, 1) : xs);
  return [
    ...q(SEEDS.basic).map((seed) => generateScene(seed, catalogue, { durationMs: quick ? 12_000 : 20_000 })),
    ...q(SEEDS.cut).map((seed) => generateCutScene(seed, catalogue, { durationMs: quick ? 15_000 : 24_000 })),
    ...q(SEEDS.return).map((seed) => generateReturnScene(seed, catalogue)),
    ...q(SEEDS.crowd).map((seed) => generateCrowdScene(seed, catalogue, { durationMs: quick ? 8_000 : 10_000 })),
    ...q(SEEDS.reframe).map((seed) => generateReframeScene(seed, catalogue, { durationMs: quick ? 16_000 : 24_000, ...(REFRAME_PX ? { sizePx: REFRAME_PX } : {}) })),
  ];
}

/** The aggregator run again on a run's messages (it is deterministic): per-face person ids, events, timelines. */
function replay(messages: readonly EmotionsMessage[], config: AggregatorConfigInput = {}): { observed: ObservedFrame[]; events: EmotionEvent[]; timelines: Timelines } {
  const persons = new Map<string, string>();
  const agg = new Aggregator({ config: parseAggregatorConfig(config), onPersonFace: (f, j, personId) => persons.set(`${f.seq}:${j}`, personId) });
  const events: EmotionEvent[] = [];
  for (const m of messages) events.push(...agg.push(m));
  events.push(...agg.end());
  const observed: ObservedFrame[] = messages.map((m) => ({
    mediaTimeMs: m.frame.mediaTimeMs,
    ...(m.frame.sceneCut ? { sceneCut: true } : {}),
    faces: m.faces.map((f, j) => ({ box: f.box, emotion: argmaxEmotion(f.probabilities).emotion, personId: persons.get(`${m.frame.seq}:${j}`) })),
  }));
  return { observed, events, timelines: agg.timelines() };
}

/** One run of one scene with one detector setting. */
interface SceneRun {
  score: SceneScore;
  messages: EmotionsMessage[];
  wallMsPerFrame: number | null;
  detectMsPerFrame: number | null;
  /** BlazeFace calls per frame: 1 for the full frame, plus the tiles searched (a cost that does not depend on the load). */
  detectorCallsPerFrame: number;
  embedded: number;
  replayMatches: boolean;
}

/** Runs one rendered scene through the pipeline with `model` and `detectorConfig`, and scores it. */
async function runScene(ctx: BenchContext, scene: Scene, file: string, model: EmotionModel, detectorConfig: DetectorConfig): Promise<SceneRun> {
  const messages: EmotionsMessage[] = [];
  const base = await ctx.detector();
  let calls = 0;
  // Counts the images BlazeFace sees; a frame and its tiles still go in one batch, as in the pipeline.
  const detector: FaceDetector = {
    name: base.name, detect: (rgb, w, h) => { calls++; return base.detect(rgb, w, h); }, dispose: () => undefined,
    ...(base.detectMany ? { detectMany: (images: readonly DetectorImage[]) => { calls += images.length; return base.detectMany!(images); } } : {}),
  };
  const r = await runEmbedded({
    source: file, fps: scene.fps, detector, detectorConfig, embedder: await ctx.embedder(), model, backend: ctx.rt.provider,
    onEmotions: (m) => messages.push(m),
  });
  // The embedded aggregator's face → person assignment, replayed on the same messages with the
  // same config through its onPersonFace hook; the replay's events must be the run's.
  const re = replay(messages);
  const same = JSON.stringify(re.events.map((e) => [e.type, e.personId, e.mediaTimeMs])) === JSON.stringify(r.events.map((e) => [e.type, e.personId, e.mediaTimeMs]));
  if (!same) ctx.log(`scene: ${scene.name}: the replayed aggregator's events differ from the run's (${re.events.length} vs ${r.events.length})`);
  return {
    score: scoreScene(scene, re.observed, r.events, r.timelines),
    messages, wallMsPerFrame: r.stages.wallMsPerFrame, detectMsPerFrame: r.stages.detectMsPerFrame, detectorCallsPerFrame: calls / Math.max(1, messages.length),
    embedded: messages.reduce((n, m) => n + m.faces.filter((f) => f.embedding).length, 0), replayMatches: same,
  };
}

/** Embeddings of the run's faces matched to true faces, for the similarity distributions. */
function embeddingSamples(scene: Scene, messages: readonly EmotionsMessage[], observed: readonly ObservedFrame[]): EmbeddingSample[] {
  return matchedFaces(scene, observed).flatMap((m) => {
    const e = messages[m.frame].faces[m.face].embedding;
    return e ? [{ group: scene.name, person: m.person, faceId: m.faceId, tMs: m.tMs, heightPx: m.heightPx, vector: unpackEmbedding(e) }] : [];
  });
}

/** The embedder's cost: ms per face at several batch sizes, on the boxes of a rendered 720p frame. */
async function timeEmbedder(ctx: BenchContext, scene: Scene): Promise<Array<{ batch: number; msPerCall: number; msPerFace: number }>> {
  const embedder = await ctx.embedder();
  const frame = await renderFrame(scene, 0, await frameBackground(scene, 0, new Map()), new Map());
  const boxes = groundTruthAt(scene, frameTimeMs(scene, 0)).map((g) => g.box);
  const rgb = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  const out: Array<{ batch: number; msPerCall: number; msPerFace: number }> = [];
  for (const batch of [1, 4, 8, 16]) {
    const b = Array.from({ length: batch }, (_, i) => boxes[i % boxes.length]);
    await embedder.embed(rgb, scene.width, scene.height, b);
    const times: number[] = [];
    for (let k = 0; k < (ctx.quick ? 2 : 5); k++) {
      const t0 = performance.now();
      await embedder.embed(rgb, scene.width, scene.height, b);
      times.push(performance.now() - t0);
    }
    const med = [...times].sort((x, y) => x - y)[times.length >> 1];
    out.push({ batch, msPerCall: med, msPerFace: med / batch });
  }
  return out;
}

/** Recall bins summed into {@link COARSE_BINS} (each fine bin lies within one coarse bin). */
function coarse(bins: ReadonlyArray<{ fromPx: number; scorable: number; matched: number }>) {
  return COARSE_BINS.map((fromPx, i) => {
    const toPx = i + 1 < COARSE_BINS.length ? COARSE_BINS[i + 1] : null;
    const inBin = bins.filter((b) => b.fromPx >= fromPx && (toPx === null || b.fromPx < toPx));
    const scorable = inBin.reduce((n, b) => n + b.scorable, 0);
    const matched = inBin.reduce((n, b) => n + b.matched, 0);
    return { fromPx, toPx, scorable, matched, recall: scorable > 0 ? matched / scorable : null };
  });
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${sig(x * 100, 3)} %`);
const frac = (a: number, b: number) => `${a}/${b}`;

/** Runs the section. */
export async function sceneSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const catalogue = loadCkPlusCatalogue(DATA_DIR);
  const scenes = scenesOf(catalogue, ctx.quick);
  const runs = new Map<ConfigKey, Array<{ scene: Scene; run: SceneRun }>>(CONFIGS.map((c) => [c.key, []]));
  const human: SceneScore[] = [];
  const humanModel = ctx.quick ? undefined : await loadEmotionModel(ctx.rt.tf, { model: 'human' });
  const sceneInfo: Array<{ name: string; kind: SceneKind; faces: number; returns: number; cuts: number; changes: number; durationMs: number }> = [];
  try {
    for (const scene of scenes) {
      const file = path.join(ctx.tmp, `${scene.name}.mp4`);
      const kind = scene.kind ?? 'basic';
      ctx.log(`scene: ${scene.name}: render ${scene.width}x${scene.height} ${scene.fps} fps ${scene.durationMs / 1000} s, ${scene.faces.length} faces; run ${CONFIGS.map((c) => c.label).join(', ')}, score`);
      await renderScene(scene, file);
      sceneInfo.push({
        name: scene.name, kind, faces: scene.faces.length, returns: scene.faces.filter((f) => f.returnOf).length, cuts: scene.cuts?.length ?? 0,
        changes: scene.faces.reduce((n, f) => n + f.expressions.length - 1, 0), durationMs: scene.durationMs,
      });
      for (const c of CONFIGS) runs.get(c.key)!.push({ scene, run: await runScene(ctx, scene, file, await ctx.emotionModel(), c.detector) });
      // Human's model for the emotion reference only: identities do not change per-frame emotions.
      if (humanModel && kind === 'basic') human.push((await runScene(ctx, scene, file, humanModel, CONFIGS[0].detector)).score);
    }
  } finally {
    humanModel?.dispose();
  }

  // Summaries per setting: the basic scenes (comparable with every earlier run), each kind, all.
  const summaries = Object.fromEntries(CONFIGS.map((c) => {
    const rs = runs.get(c.key)!;
    const of = (k?: SceneKind) => summarise(mergeScores(rs.filter((r) => !k || (r.scene.kind ?? 'basic') === k).map((r) => r.run.score)));
    const wall = mean(rs.map((r) => r.run.wallMsPerFrame ?? NaN).filter(Number.isFinite)) ?? null;
    const detect = mean(rs.map((r) => r.run.detectMsPerFrame ?? NaN).filter(Number.isFinite)) ?? null;
    const perKind = (f: (r: SceneRun) => number | null) => Object.fromEntries(KINDS.map((k) => [k, mean(rs.filter((r) => (r.scene.kind ?? 'basic') === k).map((r) => f(r.run) ?? NaN).filter(Number.isFinite)) ?? null]));
    const cost = { detectMsPerFrame: perKind((r) => r.detectMsPerFrame), detectorCallsPerFrame: perKind((r) => r.detectorCallsPerFrame) };
    const frames = rs.reduce((n, r) => n + r.run.messages.length, 0);
    const faces = rs.reduce((n, r) => n + r.run.messages.reduce((m, x) => m + x.faces.length, 0), 0);
    const embedded = rs.reduce((n, r) => n + r.run.embedded, 0);
    return [c.key, {
      all: of(), ...Object.fromEntries(KINDS.map((k) => [k, of(k)])) as Record<SceneKind, ReturnType<typeof of>>,
      wallMsPerFrame: wall, detectMsPerFrame: detect, byKind: cost, frames, faces, embeddedFaces: embedded,
      replayMatches: rs.every((r) => r.run.replayMatches),
    }];
  })) as Record<ConfigKey, { all: ReturnType<typeof summarise>; wallMsPerFrame: number | null; detectMsPerFrame: number | null; byKind: Record<'detectMsPerFrame' | 'detectorCallsPerFrame', Record<string, number | null>>; frames: number; faces: number; embeddedFaces: number; replayMatches: boolean } & Record<SceneKind, ReturnType<typeof summarise>>>;
  const h = human.length ? summarise(mergeScores(human)) : undefined;

  // Embedding similarities on the default run's faces (pairs within a scene).
  const samples: EmbeddingSample[] = [];
  for (const { scene, run } of runs.get('default')!) samples.push(...embeddingSamples(scene, run.messages, replay(run.messages).observed));
  const simAll = embeddingSimilarities(samples);
  const simLarge = embeddingSimilarities(samples, { minHeightPx: 100 });
  const simCrowd = embeddingSimilarities(samples.filter((x) => x.group.startsWith('crowd-')));
  const similarity = {
    samples: samples.length,
    all: { sameFace: similarityStats(simAll.sameFace), acrossReturn: similarityStats(simAll.acrossReturn), different: similarityStats(simAll.different) },
    facesAtLeast100px: { sameFace: similarityStats(simLarge.sameFace), acrossReturn: similarityStats(simLarge.acrossReturn), different: similarityStats(simLarge.different) },
    crowd: { sameFace: similarityStats(simCrowd.sameFace), different: similarityStats(simCrowd.different) },
  };

  // The default run's messages replayed with other aggregator settings, and with cuts or
  // embeddings taken out of the messages (what `sceneCuts: false` or `embeddings: false` alone
  // would give, except that without cuts the detector also embeds fewer faces after one).
  const variant = (config: AggregatorConfigInput, strip?: 'cuts' | 'embeddings', kind?: SceneKind) => summarise(mergeScores(runs.get('default')!.filter(({ scene }) => !kind || (scene.kind ?? 'basic') === kind).map(({ scene, run }) => {
    const msgs = strip === undefined ? run.messages : run.messages.map((m) => ({
      ...m,
      frame: strip === 'cuts' ? { ...m.frame, sceneCut: undefined } : m.frame,
      faces: strip === 'embeddings' ? m.faces.map(({ embedding: _e, ...f }) => f) : m.faces,
    }));
    const re = replay(msgs, config);
    return scoreScene(scene, re.observed, re.events, re.timelines);
  })));
  // reidMinSimilarity (under 0.55 no second look), the second look's threshold (1: off), small faces' (0.6: as large ones).
  const sweep = [...[0.4, 0.5, 0.55, 0.6, 0.65, 0.7].map((reidMinSimilarity) => ({ reidMinSimilarity })), ...[1, 0.45, 0.55].map((reidSecondLookSimilarity) => ({ reidSecondLookSimilarity })), ...[0.6, 0.7].map((reidSmallFaceMinSimilarity) => ({ reidSmallFaceMinSimilarity }))]
    .map((settings) => ({ settings, s: variant(settings) }));
  const ablation = { cutsOnly: variant({}, 'embeddings'), embeddingsOnly: variant({}, 'cuts') };
  // The appearance gate of the tracker (a face less alike than this does not continue a track),
  // with cuts (the default) and without them (what stops a swap when a cut is missed).
  const gate = [0.35, 0.45, 0.5].map((minAppearanceSimilarity) => ({
    minAppearanceSimilarity, withCuts: variant({ minAppearanceSimilarity }), withoutCuts: variant({ minAppearanceSimilarity }, 'cuts'),
  }));

  // The timelines as analyze writes them (with hindsight); the runs' own are the live ones, as the Kafka aggregator keeps them.
  const hindsight = { all: variant({ timelineHindsight: true }), basic: variant({ timelineHindsight: true }, undefined, 'basic') };

  ctx.log('scene: timing the embedder');
  const embedCost = await timeEmbedder(ctx, scenes.find((s) => s.kind === 'crowd') ?? scenes[0]);

  const off = summaries.off;
  const on = summaries.default;
  const figures = {
    sceneEmotionAccuracy: on.basic.sceneEmotionAccuracy,
    idSwitchesPerPersonMinute: on.basic.idSwitchesPerPersonMinute,
    sceneEventTimingErrorMs: on.basic.eventTimingErrorMsMedian,
    sceneIdSwitchesPerPersonMinuteAll: on.all.idSwitchesPerPersonMinute,
    sceneSameIdOnReturnRate: on.all.sameIdOnReturnRate,
    sceneSwapsAtCuts: on.all.cutSwaps,
    sceneFalseDetectionsPerFrame: on.all.sceneFalsePositivesPerFrame,
    sceneRecallBySize: { tilesOff: coarse(off.all.recallBySize), default: coarse(on.all.recallBySize) },
    embedMsPerFace: embedCost.find((x) => x.batch === 8)?.msPerFace ?? null,
    scene: {
      generator: 'bench/scene (seeded): CK+48 subjects upscaled over procedural 1280x720 backgrounds. basic: 3 faces of 170-230 px + 1 late entrant, one leaves early, one planned crossing (occlusion); cut: 3 shots of 8 s, 6 subjects of 140-200 px, b0 on a0\'s spot right after the first cut, the third shot back to the first shot\'s people (returns across a cut); return: a stayer, two people who leave for 2-6 s and come back elsewhere at 0.6-0.8x, a newcomer; crowd: 8-15 faces of 20-60 px, slow zoom 1-1.25x and pan over 10 s; reframe: 4 shots of 6 s, a wide shot of 3 subjects of 50-70 px, a close-up (190-240 px) of one of them, a close-up of a stranger, the wide shot again (returns across cuts at 3-4x and 1/3-1/4 the size). Expression changes every 3-6 s.',
      seeds: Object.fromEntries(KINDS.map((k) => [k, ctx.quick ? SEEDS[k].slice(0, 1) : SEEDS[k]])),
      scenes: sceneInfo, model: ctx.model.description,
      settings: Object.fromEntries(CONFIGS.map((c) => [c.key, {
        sceneCuts: c.detector.sceneCuts, embeddings: c.detector.embeddings, tiles: c.detector.tiles, tilesEveryFrames: c.detector.tilesEveryFrames,
        tilesMinScore: c.detector.tilesMinScore, minFaceSizePx: c.detector.minFaceSizePx, maxFaces: c.detector.maxFaces,
        detectEveryMs: c.detector.detectEveryMs, carryMinScore: c.detector.carryMinScore, carryMaxMotion: c.detector.carryMaxMotion, label: c.label,
      }])),
      summaries,
      humanEmotionModel: h ?? null,
      embedderCost: embedCost,
      similarity,
      reidSweep: sweep.map(({ settings, s }) => ({
        ...settings, appearTimingErrorMsMedian: s.appearTimingErrorMsMedian, sceneTimelineAccuracy: s.sceneTimelineAccuracy, sameIdOnReturnRate: s.sameIdOnReturnRate, returns: s.returns, returnsAfterExit: s.returnsAfterExit, returnsAcrossCut: s.returnsAcrossCut,
        reidCorrect: s.reidCorrect, reidWrong: s.reidWrong,
        idSwitchesPerPersonMinute: s.idSwitchesPerPersonMinute, cutSwaps: s.cutSwaps,
      })),
      ablation: Object.fromEntries(Object.entries(ablation).map(([k, s]) => [k, {
        sameIdOnReturnRate: s.sameIdOnReturnRate, returns: s.returns, reidWrong: s.reidWrong, cutSwaps: s.cutSwaps, idSwitchesPerPersonMinute: s.idSwitchesPerPersonMinute,
      }])),
      appearanceGate: gate.map((g) => ({
        minAppearanceSimilarity: g.minAppearanceSimilarity,
        withCuts: { idSwitches: g.withCuts.idSwitches, idSwitchesPerPersonMinute: g.withCuts.idSwitchesPerPersonMinute, cutSwaps: g.withCuts.cutSwaps, sameIdOnReturnRate: g.withCuts.sameIdOnReturnRate },
        withoutCuts: { idSwitches: g.withoutCuts.idSwitches, idSwitchesPerPersonMinute: g.withoutCuts.idSwitchesPerPersonMinute, cutSwaps: g.withoutCuts.cutSwaps },
      })),
      note: 'scored on faces at least 70% visible; match by IoU >= 0.3; CK+ has no neutral (6 classes present, 7-way output); returns: the first person id a returning face gets vs the one its person had when last seen; swaps at cuts: person ids whose last face in the second before a cut and first face in the 2 s after it are different people',
    },
  };

  const rows: Row[] = [];
  const kindsDetail = (s: typeof on, f: (x: ReturnType<typeof summarise>) => string) => KINDS.map((k) => `${k} ${f(s[k])}`).join(', ');
  for (const c of CONFIGS) {
    const s = summaries[c.key];
    const ret = (x: ReturnType<typeof summarise>['returns']) => `${frac(x.same, x.scored)} (new ${x.new}, wrong ${x.wrong}, missed ${x.missed})`;
    rows.push(
      { section: 'scene', figure: `sceneEmotionAccuracy, basic scenes ${c.label}`, value: pct(s.basic.sceneEmotionAccuracy),
        detail: `${ctx.model.description}; all scenes ${pct(s.all.sceneEmotionAccuracy)} (${kindsDetail(s, (x) => pct(x.sceneEmotionAccuracy))}); live timeline basic ${pct(s.basic.sceneTimelineAccuracy)}, all ${pct(s.all.sceneTimelineAccuracy)}${c.key === 'default' ? `; Human's emotion model on the basic scenes ${pct(h?.sceneEmotionAccuracy)}` : ''}` },
      { section: 'scene', figure: `idSwitchesPerPersonMinute, all scenes ${c.label}`, value: `${sig(s.all.idSwitchesPerPersonMinute, 3)}`,
        detail: `${s.all.idSwitches} switches over ${sig(s.all.personMinutes, 3)} person-minutes; ${kindsDetail(s, (x) => `${sig(x.idSwitchesPerPersonMinute, 3)} (${x.idSwitches})`)}` },
      { section: 'scene', figure: `sameIdOnReturnRate ${c.label}`, value: pct(s.all.sameIdOnReturnRate),
        detail: `${ret(s.all.returns)}; after an exit ${ret(s.all.returnsAfterExit)}; across a cut ${ret(s.all.returnsAcrossCut)}; re-identifications right ${s.all.reidCorrect}, wrong ${s.all.reidWrong}` },
      { section: 'scene', figure: `swapsAtCuts ${c.label}`, value: `${s.all.cutSwaps}`,
        detail: `over ${s.all.cutsExpected} cuts (a person id carried onto another person); cuts flagged ${frac(s.all.cutsFound, s.all.cutsExpected)}, false cuts ${s.all.falseCuts} in ${s.all.frames} frames (crowd zoom/pan ${s.crowd.falseCuts})` },
      { section: 'scene', figure: `detection recall by face height ${c.label}`, value: pct(s.all.sceneDetectionRecall),
        detail: s.all.recallBySize.map((b) => `${b.fromPx}${b.toPx === null ? '+' : `-${b.toPx}`} px ${pct(b.recall)} (${frac(b.matched, b.scorable)})`).join(', ') },
      { section: 'scene', figure: `detection recall, small faces ${c.label}`, value: pct(coarse(s.all.recallBySize)[0].recall),
        detail: coarse(s.all.recallBySize).map((b) => `${b.fromPx}${b.toPx === null ? '+' : `-${b.toPx - 1}`} px ${pct(b.recall)} (${frac(b.matched, b.scorable)})`).join(', ') + `; crowd scenes: ${coarse(s.crowd.recallBySize).map((b) => `${b.fromPx}${b.toPx === null ? '+' : `-${b.toPx - 1}`} ${pct(b.recall)}`).join(', ')}` },
      { section: 'scene', figure: `false detections per frame ${c.label}`, value: `${sig(s.all.sceneFalsePositivesPerFrame, 3)}`,
        detail: `${s.all.falseDetections} in ${s.all.frames} frames; ${kindsDetail(s, (x) => `${x.falseDetections}`)}` },
      { section: 'scene', figure: `pipeline wall ms per frame ${c.label}`, value: `${sig(s.wallMsPerFrame, 3)} ms`,
        detail: `mean over the scenes; BlazeFace alone ${sig(s.detectMsPerFrame, 3)} ms/frame (${KINDS.map((k) => `${k} ${sig(s.byKind.detectMsPerFrame[k], 3)}`).join(', ')}), BlazeFace calls per frame ${KINDS.map((k) => `${k} ${sig(s.byKind.detectorCallsPerFrame[k], 3)}`).join(', ')}; ${s.embeddedFaces} of ${s.faces} faces embedded in ${s.frames} frames${s.replayMatches ? '' : '; WARNING: replayed aggregator differs from the run'}` },
    );
  }
  rows.push({ section: 'scene', figure: 'sceneTimelineAccuracy with hindsight (analyze\'s timelines.json), basic scenes', value: pct(hindsight.basic.sceneTimelineAccuracy),
    detail: `all scenes ${pct(hindsight.all.sceneTimelineAccuracy)}; the live timeline (events, the Kafka aggregator) basic ${pct(on.basic.sceneTimelineAccuracy)}, all ${pct(on.all.sceneTimelineAccuracy)}; per frame basic ${pct(on.basic.sceneEmotionAccuracy)}, all ${pct(on.all.sceneEmotionAccuracy)}` });
  rows.push(
    { section: 'scene', figure: 'event timing error, basic scenes (median |Δt|) (default)', value: `${sig(on.basic.eventTimingErrorMsMedian, 3)} ms`,
      detail: `appear ${sig(on.basic.appearTimingErrorMsMedian, 3)} ms, change ${sig(on.basic.changeTimingErrorMsMedian, 3)} ms (${on.basic.changesDetected}/${on.basic.changesExpected} changes found with the right emotion; ${on.basic.changesWithAnyEvent} with any change event), leave ${sig(on.basic.leaveTimingErrorMsMedian, 3)} ms; tiles off: ${sig(off.basic.eventTimingErrorMsMedian, 3)} ms` },
    { section: 'scene', figure: 'embedding cost (faceres, ms per face, batch 8)', value: `${sig(figures.embedMsPerFace, 3)} ms`,
      detail: embedCost.map((x) => `batch ${x.batch}: ${sig(x.msPerFace, 3)} ms/face (${sig(x.msPerCall, 3)} ms/call)`).join(', ') + '; 224x224 crops of a 1280x720 frame' },
    { section: 'scene', figure: 'embedding similarity p50: same face / across return / different people', value: `${similarity.all.sameFace.p50} / ${similarity.all.acrossReturn.p50} / ${similarity.all.different.p50}`,
      detail: (['sameFace', 'acrossReturn', 'different'] as const).map((k) => {
        const x = similarity.all[k];
        return `${k} p5-p95 ${x.p5}..${x.p95} (n ${x.pairs}, >=0.7 ${pct(x.atLeast['0.70'])}, >=0.5 ${pct(x.atLeast['0.50'])})`;
      }).join('; ') + `; crowd (40-75 px) same ${similarity.crowd.sameFace.p50}, different ${similarity.crowd.different.p50}` },
    ...sweep.map(({ settings, s }) => ({
      section: 'scene', figure: `replay: ${Object.entries(settings).map(([k, v]) => `${k} ${v}`).join(', ')}`, value: pct(s.sameIdOnReturnRate),
      detail: `returns ${frac(s.returns.same, s.returns.scored)} (new ${s.returns.new}, wrong ${s.returns.wrong}; after an exit ${frac(s.returnsAfterExit.same, s.returnsAfterExit.scored)}, across a cut ${frac(s.returnsAcrossCut.same, s.returnsAcrossCut.scored)}); re-identifications right ${s.reidCorrect}, wrong ${s.reidWrong}; ID switches ${sig(s.idSwitchesPerPersonMinute, 3)}/person-min; swaps at cuts ${s.cutSwaps}; person.appeared ${sig(s.appearTimingErrorMsMedian, 3)} ms late (median); live timeline ${pct(s.sceneTimelineAccuracy)}`,
    })),
    ...gate.map((g) => ({
      section: 'scene', figure: `replay: minAppearanceSimilarity ${g.minAppearanceSimilarity}`, value: `${sig(g.withCuts.idSwitchesPerPersonMinute, 3)}`,
      detail: `ID switches per person-minute (${g.withCuts.idSwitches}), swaps at cuts ${g.withCuts.cutSwaps}, same id on return ${pct(g.withCuts.sameIdOnReturnRate)}; with the cut flags taken out: swaps at cuts ${g.withoutCuts.cutSwaps}, ID switches ${g.withoutCuts.idSwitches}`,
    })),
    ...Object.entries(ablation).map(([k, s]) => ({
      section: 'scene', figure: `replay: ${k === 'cutsOnly' ? 'cuts on, embeddings off' : 'embeddings on, cuts off'}`, value: `${s.cutSwaps} swaps`,
      detail: `same id on return ${pct(s.sameIdOnReturnRate)}; ID switches ${sig(s.idSwitchesPerPersonMinute, 3)}/person-min; re-identifications wrong ${s.reidWrong}`,
    })),
  );
  return { figures, rows };
}
