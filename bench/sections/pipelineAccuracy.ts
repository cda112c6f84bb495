/**
 * Emotions through the real pipeline (issue "Emotions right on real video"): labelled FER-2013
 * faces rendered into 1280x720 frames (bench/accuracy/: faces 40-200 px at random positions with
 * ±12° roll over a seeded textured background; lighting, gamma, blur, noise, JPEG), through
 * BlazeFace and the detector stage (`detectFaces`), the shipped model through the classifier
 * stage's batch call (mirror TTA as its card says), detections matched to the placed faces by
 * IoU >= 0.3. Scored beside the same faces classified from their own 48x48 images (the model's
 * preprocessing, as `emostream evaluate`): the gap (still − through the pipeline, same faces) is
 * the headline. Short clips of one face (1.5 s at 10 fps, slight head motion, fresh noise per
 * frame) go on through the aggregator: per-person accuracy of the dominant emotion.
 *
 * Order (PrivateTest last, for the shipped crop geometry only):
 *  1. PublicTest, a seeded subset (700 faces; `--quick` 45): the crop geometry sweep
 *     (`marginFraction` × `cropOffsetY` × `align`); the best by the mean of through-pipeline
 *     accuracy and balanced accuracy is reported as the choice (the defaults are not changed here).
 *  2. PublicTest clips (the subset's first 80 faces; `--quick` 6) with the shipped and the chosen geometry.
 *  3. PrivateTest, every face, the shipped geometry (`parseDetectorConfig({})`); then its clips (80, seeded).
 *
 * Sizes can be set for one-off runs: BENCH_ACCURACY_SWEEP_FACES, BENCH_ACCURACY_CLIPS,
 * BENCH_ACCURACY_PRIVATE_FACES (0: leave PrivateTest out), BENCH_ACCURACY_SETTINGS (a list instead of the sweep; BENCH_MODEL
 * measures a candidate model); BENCH_ACCURACY_FEATHER sets the soft
 * edge of the pasted faces (default 0.08 of their side; 0.01 is a hard edge). BENCH_ACCURACY_LABELS=ferplus
 * scores every figure against FER+'s majority vote of each face instead of FER-2013's label (faces
 * without a FER+ emotion majority left out; ../shared/data/ferplus or EMOSTREAM_FERPLUS_DIR). With
 * FER-2013's labels (the default) and FER+'s votes at hand, the shipped geometry's gap is also
 * scored against FER+'s majority of the same detected faces (rows "…, FER+ labels"): FER-2013's
 * labels came from web-search keywords, FER+'s from ten people looking at each face, and the
 * degradations of the pipeline cost the two very differently (bench/RESULTS.md, Session 15).
 */
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { mulberry32 } from '@emostream/runtime';
import { createFaceEmbedder } from '@emostream/detector';
import { parseAggregatorConfig } from '@emostream/aggregator';
import { DATA_DIR, type BenchContext, type Row } from '../lib/context.js';
import { percentile, sig } from '../lib/stats.js';
import { ferPlusLabeller, listFerFaces, relabelled, seededShuffle, withFerPlusLabels, type FerFace, type TestSplit } from '../accuracy/faces.js';
import { SIZE_BUCKETS, sizeBucket } from '../accuracy/geometry.js';
import {
  DEFAULT_RENDER, measureStills, settingKey, shippedSetting, stillPredictions,
  type CropSetting, type StillsResult,
} from '../accuracy/measure.js';
import { measureClips } from '../accuracy/clips.js';
import { benchClassify } from '../lib/embedded.js';
import { LOOK_RANGES } from '../accuracy/render.js';
import { pairedDelta, smoothedReliability, summariseClips, summariseFaces, type ClipRecord, type ClipSummary, type FaceRecord, type FaceSummary } from '../accuracy/score.js';

/** Seeds: the PublicTest subset and its frames, PrivateTest's frames, the clips. */
const SUBSET_SEED = 1;
const PUBLIC_SEED = 101;
const PRIVATE_SEED = 202;
const PUBLIC_CLIP_SEED = 303;
const PRIVATE_CLIP_SEED = 404;
/** Faces per still frame (each is its own scene: a new background window, look and positions). */
const FACES_PER_FRAME = 3;
const CLIP_FRAMES = 15;
const CLIP_FPS = 10;

const MARGINS = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3];
const OFFSETS = [0, -0.05, -0.1, -0.15];

/** A test split's faces, labelled as BENCH_ACCURACY_LABELS says (`fer2013`, the default, or `ferplus`). */
async function labelledFaces(ferDir: string, split: TestSplit): Promise<{ faces: FerFace[]; blank: string[] }> {
  const labels = process.env.BENCH_ACCURACY_LABELS ?? 'fer2013';
  if (labels !== 'fer2013' && labels !== 'ferplus') throw new Error(`BENCH_ACCURACY_LABELS must be fer2013 or ferplus, got '${labels}'`);
  const { faces, blank } = listFerFaces(ferDir, split);
  return labels === 'ferplus' ? { faces: await withFerPlusLabels(faces, process.env.EMOSTREAM_FERPLUS_DIR ?? path.join(DATA_DIR, 'ferplus')), blank } : { faces, blank };
}

/** The sweep: every margin × offset, align on and off; `--quick`: the shipped geometry and two others. */
function sweepSettings(quick: boolean): CropSetting[] {
  const shipped = shippedSetting();
  if (quick) return [shipped, { marginFraction: 0.15, cropOffsetY: -0.1, align: true }, { ...shipped, align: !shipped.align }];
  const grid = MARGINS.flatMap((marginFraction) => OFFSETS.flatMap((cropOffsetY) => [true, false].map((align) => ({ marginFraction, cropOffsetY, align }))));
  // The shipped geometry first (the reference of every paired difference).
  return [shipped, ...grid.filter((s) => settingKey(s) !== settingKey(shipped))];
}

/**
 * `BENCH_ACCURACY_SETTINGS`, e.g. `0.05/0/align,0.1/-0.1/align` (margin/offset/align|no-align):
 * these settings instead of the sweep, the shipped one always first.
 */
function listedSettings(text: string): CropSetting[] {
  const shipped = shippedSetting();
  const listed = text.split(',').map((t) => {
    const [m, y, a] = t.trim().split('/');
    const s = { marginFraction: Number(m), cropOffsetY: Number(y), align: a === 'align' };
    if (!Number.isFinite(s.marginFraction) || !Number.isFinite(s.cropOffsetY) || !['align', 'no-align'].includes(a)) {
      throw new Error(`BENCH_ACCURACY_SETTINGS: '${t}' is not margin/offset/align|no-align, e.g. 0.1/-0.1/align`);
    }
    return s;
  });
  return [shipped, ...listed.filter((s) => settingKey(s) !== settingKey(shipped))];
}

const envInt = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number >= 0, got '${v}'`);
  return n;
};

const pct = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? 'n/a' : `${sig(x * 100, digits)}%`);
const pts = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`);
const median = (xs: number[]) => percentile(xs, 50) ?? null;
const iqr = (xs: number[]) => (xs.length ? [sig(percentile(xs, 25)), sig(percentile(xs, 75))] : null);
/** The selection rule: the mean of accuracy and balanced accuracy (as the model's τ and epoch choices). */
const selectionScore = (s: FaceSummary) => ((s.pipeline.accuracy ?? 0) + (s.pipeline.balancedAccuracy ?? 0)) / 2;

/** A summary for the JSON: rounded, confusions kept. */
function faceJson(s: FaceSummary) {
  const cls = (c: FaceSummary['still']) => ({
    n: c.n, accuracy: sig(c.accuracy), balancedAccuracy: sig(c.balancedAccuracy),
    recall: Object.fromEntries(Object.entries(c.recall).map(([k, v]) => [k, sig(v)])),
    neutralToSad: sig(c.neutralToSad), sadToNeutral: sig(c.sadToNeutral), confusion: c.confusion,
  });
  return {
    faces: s.faces, detected: s.detected, detectionRate: sig(s.detectionRate), meanIou: sig(s.meanIou),
    stillAllFaces: { accuracy: sig(s.stillAll.accuracy), balancedAccuracy: sig(s.stillAll.balancedAccuracy) },
    still: cls(s.still), pipeline: cls(s.pipeline),
    gap: sig(s.gap), gapBalanced: sig(s.gapBalanced), gapSe: sig(s.gapSe),
    exactCrop: s.exact ? {
      beforeCamera: { accuracy: sig(s.exact.clean.accuracy), balancedAccuracy: sig(s.exact.clean.balancedAccuracy), neutralToSad: sig(s.exact.clean.neutralToSad) },
      afterCamera: { accuracy: sig(s.exact.filmed.accuracy), balancedAccuracy: sig(s.exact.filmed.balancedAccuracy), neutralToSad: sig(s.exact.filmed.neutralToSad), recall: Object.fromEntries(Object.entries(s.exact.filmed.recall).map(([k, v]) => [k, sig(v)])) },
      allFaces: { beforeCamera: sig(s.exact.cleanAll.accuracy), afterCamera: sig(s.exact.filmedAll.accuracy), afterCameraBalanced: sig(s.exact.filmedAll.balancedAccuracy) },
    } : null,
    bySize: s.bySize.map((b) => ({
      ...b, detectionRate: sig(b.detectionRate), stillAccuracy: sig(b.stillAccuracy), pipelineAccuracy: sig(b.pipelineAccuracy),
      ...(b.exactBeforeCamera === undefined ? {} : { exactBeforeCamera: sig(b.exactBeforeCamera), exactAfterCamera: sig(b.exactAfterCamera) }),
    })),
  };
}

function clipJson(s: ClipSummary) {
  const round = (o: object): object => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? sig(v) : v]));
  return { ...round(s), personGap: round(s.personGap) };
}

/** Where BlazeFace's box sits on the placed faces: medians overall and per size bucket. */
function framingJson(r: StillsResult) {
  const of = (xs: StillsResult['framing']) => ({
    faces: xs.length, boxSideOverPatch: sig(median(xs.map((x) => x.sideRatio))),
    marginToPatch: sig(median(xs.map((x) => x.marginToPatch))), offsetYToPatch: sig(median(xs.map((x) => x.offsetYToPatch))),
    // Spread from face to face (p25, p75): what no single setting can follow.
    marginToPatchIqr: iqr(xs.map((x) => x.marginToPatch)), offsetYToPatchIqr: iqr(xs.map((x) => x.offsetYToPatch)),
  });
  return { all: of(r.framing), bySize: Object.fromEntries(SIZE_BUCKETS.map(([a, b]) => [`${a}-${b - 1}`, of(r.framing.filter((x) => sizeBucket(x.side) === `${a}-${b - 1}`))])) };
}

/** Runs the section. */
export async function pipelineAccuracySection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const ferDir = path.join(DATA_DIR, 'fer2013');
  const sweepFaces = envInt('BENCH_ACCURACY_SWEEP_FACES', ctx.quick ? 45 : 700);
  const clipCount = envInt('BENCH_ACCURACY_CLIPS', ctx.quick ? 6 : 80);
  const feather = Number(process.env.BENCH_ACCURACY_FEATHER || DEFAULT_RENDER.feather);
  if (!(feather > 0 && feather <= 0.5)) throw new Error(`BENCH_ACCURACY_FEATHER must be a number in (0, 0.5], got '${process.env.BENCH_ACCURACY_FEATHER}'`);
  const render = { ...DEFAULT_RENDER, feather };
  const model = await ctx.emotionModel();
  const detector = await ctx.detector();
  const embedder = await createFaceEmbedder(ctx.rt);
  // The clips' classifier as BENCH_CLASSIFIER_SETTINGS sets it (reuse, paired views); unset: every frame classified whole.
  const clipReuse = process.env.BENCH_CLASSIFIER_SETTINGS ? benchClassify().reuse : undefined;
  const deps = { detector, model, embedder, clipReuse, log: ctx.log };
  const shipped = shippedSetting();
  const shippedKey = settingKey(shipped);
  const t0 = Date.now();
  // FER+'s majority of the same faces, a second reading of the shipped geometry's gap (not with BENCH_ACCURACY_LABELS=ferplus: already so).
  const ferPlusOf = (process.env.BENCH_ACCURACY_LABELS ?? 'fer2013') === 'fer2013' ? await ferPlusLabeller(process.env.EMOSTREAM_FERPLUS_DIR ?? path.join(DATA_DIR, 'ferplus')) : undefined;
  const asFerPlus = (recs: readonly FaceRecord[]) => (ferPlusOf ? summariseFaces(relabelled(recs, ferPlusOf)) : undefined);
  const asFerPlusClips = (recs: readonly ClipRecord[] | undefined) => (ferPlusOf && recs ? summariseClips(relabelled(recs, ferPlusOf)) : undefined);
  try {
    // 1. PublicTest: the sweep.
    const pub = await labelledFaces(ferDir, 'PublicTest');
    const pubFaces = seededShuffle(pub.faces, mulberry32(SUBSET_SEED)).slice(0, sweepFaces);
    const settings = process.env.BENCH_ACCURACY_SETTINGS ? listedSettings(process.env.BENCH_ACCURACY_SETTINGS) : sweepSettings(ctx.quick);
    ctx.log(`pipelineAccuracy: PublicTest ${pubFaces.length} faces (seeded subset of ${pub.faces.length}), ${settings.length} crop settings`);
    const pubStill = await stillPredictions(model, pubFaces);
    const sweep = await measureStills(deps, { name: 'PublicTest', faces: pubFaces, still: pubStill, seed: PUBLIC_SEED, facesPerFrame: FACES_PER_FRAME, settings, render });
    const ref = sweep.records.get(shippedKey)!;
    const correct = (rs: typeof ref) => rs.filter((r) => r.pipe !== undefined).map((r) => Number(r.pipe === r.label));
    const table = settings.map((s) => {
      const key = settingKey(s);
      const recs = sweep.records.get(key)!;
      const sum = summariseFaces(recs);
      return { setting: s, key, summary: sum, score: selectionScore(sum), vsShipped: pairedDelta(correct(recs), correct(ref)) };
    });
    const ranked = [...table].sort((a, b) => b.score - a.score || (b.summary.pipeline.accuracy ?? 0) - (a.summary.pipeline.accuracy ?? 0));
    const chosen = ranked[0];
    const shippedRow = table.find((t) => t.key === shippedKey)!;
    ctx.log(`pipelineAccuracy: chosen on PublicTest: ${chosen.key} (${pct(chosen.summary.pipeline.accuracy)} / ${pct(chosen.summary.pipeline.balancedAccuracy)}; shipped ${shippedKey}: ${pct(shippedRow.summary.pipeline.accuracy)} / ${pct(shippedRow.summary.pipeline.balancedAccuracy)})`);

    // 2. PublicTest clips: shipped and chosen geometry.
    const clipSettings = chosen.key === shippedKey ? [shipped] : [shipped, chosen.setting];
    const pubClipFaces = pubFaces.slice(0, clipCount);
    ctx.log(`pipelineAccuracy: PublicTest clips: ${pubClipFaces.length} faces x ${CLIP_FRAMES} frames, ${clipSettings.length} setting(s)`);
    const pubClips = clipCount ? await measureClips(deps, { name: 'PublicTest-clip', faces: pubClipFaces, still: pubStill, seed: PUBLIC_CLIP_SEED, frames: CLIP_FRAMES, fps: CLIP_FPS, settings: clipSettings, render }) : undefined;

    // 3. PrivateTest, the shipped geometry only: stills, then clips.
    const priv = await labelledFaces(ferDir, 'PrivateTest');
    const privCount = envInt('BENCH_ACCURACY_PRIVATE_FACES', ctx.quick ? 45 : priv.faces.length);
    const privFaces = privCount >= priv.faces.length ? priv.faces : seededShuffle(priv.faces, mulberry32(SUBSET_SEED)).slice(0, privCount);
    let privSummary: FaceSummary | undefined, privFerPlus: FaceSummary | undefined, privRun: StillsResult | undefined, privClip: ClipSummary | undefined, privClipFerPlus: ClipSummary | undefined;
    if (privFaces.length) {
      ctx.log(`pipelineAccuracy: PrivateTest ${privFaces.length} faces, shipped geometry ${shippedKey}`);
      const privStill = await stillPredictions(model, privFaces);
      privRun = await measureStills(deps, { name: 'PrivateTest', faces: privFaces, still: privStill, seed: PRIVATE_SEED, facesPerFrame: FACES_PER_FRAME, settings: [shipped], render });
      privSummary = summariseFaces(privRun.records.get(shippedKey)!);
      privFerPlus = asFerPlus(privRun.records.get(shippedKey)!);
      const privClipFaces = seededShuffle(privFaces, mulberry32(SUBSET_SEED + 1)).slice(0, clipCount);
      if (privClipFaces.length) {
        ctx.log(`pipelineAccuracy: PrivateTest clips: ${privClipFaces.length} faces`);
        const c = await measureClips(deps, { name: 'PrivateTest-clip', faces: privClipFaces, still: privStill, seed: PRIVATE_CLIP_SEED, frames: CLIP_FRAMES, fps: CLIP_FPS, settings: [shipped], render });
        privClip = summariseClips(c.records.get(shippedKey)!);
        privClipFerPlus = asFerPlusClips(c.records.get(shippedKey));
      }
    }

    const pubShipped = shippedRow.summary;
    const pubFerPlus = asFerPlus(ref);
    const pubClipShipped = pubClips ? summariseClips(pubClips.records.get(shippedKey)!) : undefined;
    const pubClipFerPlus = asFerPlusClips(pubClips?.records.get(shippedKey));
    // What uncertainBelow is chosen on: the smoothed likeliest emotion's right rate by its probability (PublicTest only).
    const reliability = pubClips ? smoothedReliability(pubClips.records.get(shippedKey)!).map((b) => ({ ...b, accuracy: sig(b.accuracy), shareBelowTo: sig(b.shareBelowTo), accuracyBelowTo: sig(b.accuracyBelowTo) })) : null;
    const pubClipChosen = pubClips && chosen.key !== shippedKey ? summariseClips(pubClips.records.get(chosen.key)!) : pubClipShipped;
    const head = privSummary ?? pubShipped;
    const headClip = privClip ?? pubClipShipped;
    const headSplit = privSummary ? 'PrivateTest' : 'PublicTest';

    const figures = {
      pipelineStillAccuracy: head.still.accuracy,
      pipelineThroughAccuracy: head.pipeline.accuracy,
      pipelineAccuracyGap: head.gap,
      pipelineDetectionRate: head.detectionRate,
      pipelinePersonAccuracy: headClip?.personAccuracy ?? null,
      pipelineCropChoice: chosen.key,
      pipelineAccuracy: {
        model: ctx.model.description,
        headlineSplit: headSplit,
        method: {
          frames: '1280x720 RGB; FER-2013 48x48 gray faces upscaled (lanczos3) to 40-200 px patches (log-uniform), tinted to a skin tone (luma kept), rolled ±12°, pasted with a soft edge (feather, of the side) at random non-overlapping positions; backgrounds: 12 seeded procedural textures (colour field, striped/checked blocks, grain, blurred) per run, a random window each frame',
          camera: `gain ${LOOK_RANGES.gain.join('-')} and gamma ${LOOK_RANGES.gamma.join('-')} (log-uniform), side light ±${LOOK_RANGES.grad}, Gaussian blur sigma ${LOOK_RANGES.blurSigma.join('-')} px (none in ${LOOK_RANGES.noBlurShare * 100}% of frames), noise sigma ${LOOK_RANGES.noiseSigma.join('-')} levels, JPEG quality ${LOOK_RANGES.jpegQuality.join('-')} (sharp), decoded back`,
          pipeline: 'BlazeFace (createDetector(parseDetectorConfig({}))) → detectFaces with parseDetectorConfig({ marginFraction, cropOffsetY, align, sceneCuts: false, embeddings: false }) for stills (the defaults otherwise; each still frame is a new scene) and parseDetectorConfig({ marginFraction, cropOffsetY, align }) for clips → classifyBatch (shipped model, mirror TTA per its card) → Aggregator (defaults) for clips' + (clipReuse ? `; the clips' classifier with BENCH_CLASSIFIER_SETTINGS=${process.env.BENCH_CLASSIFIER_SETTINGS} (reuse and paired views as set, a fresh cache per clip)` : '; every clip frame classified whole (no reuse)'),
          matching: 'detector-stage faces matched one-to-one to the placed patch squares by IoU >= 0.3 (greedy, largest first)',
          still: 'the same faces from their 48x48 files through imageFileToModelCrop (the model\'s own preprocessing, as emostream evaluate) and the same model',
          exactCrop: 'the placed patch (FER-2013\'s own framing) cut out exactly and de-rotated by its true roll (sampleRotatedSquare + toModelCrop), from the frame before the camera and after it: splits the gap into resampling, camera, and detector geometry',
          clips: `${CLIP_FRAMES} frames at ${CLIP_FPS} fps per face: drift ±8% of the face side, ±1.5% jitter, ±6% scale drift, ±2% scale jitter, ±2° roll jitter, fresh sensor noise per frame; dominant emotion = the report's (the largest share of time; an all-uncertain person: their stretches' likeliest emotion) of the person seen longest; uncertain and no person count as wrong`,
          facesPerFrame: FACES_PER_FRAME, feather,
          labels: process.env.BENCH_ACCURACY_LABELS ?? 'fer2013',
          selection: 'PublicTest only: the best mean of through-pipeline accuracy and balanced accuracy; PrivateTest scored for the shipped geometry only',
          seeds: { subset: SUBSET_SEED, publicFrames: PUBLIC_SEED, privateFrames: PRIVATE_SEED, publicClips: PUBLIC_CLIP_SEED, privateClips: PRIVATE_CLIP_SEED },
        },
        shippedGeometry: shipped,
        publicTest: {
          faces: pubFaces.length, of: pub.faces.length, blankLeftOut: pub.blank, frames: sweep.frames,
          missed: sweep.missed, falseDetections: sweep.falseDetections, framing: framingJson(sweep),
          shipped: faceJson(pubShipped),
          shippedFerPlusLabels: pubFerPlus ? faceJson(pubFerPlus) : null,
          chosen: { key: chosen.key, setting: chosen.setting, summary: faceJson(chosen.summary) },
          sweep: table.map((t) => ({
            key: t.key, ...t.setting, detectionRate: sig(t.summary.detectionRate), accuracy: sig(t.summary.pipeline.accuracy),
            balancedAccuracy: sig(t.summary.pipeline.balancedAccuracy), selectionScore: sig(t.score),
            vsShipped: sig(t.vsShipped.mean), vsShippedSe: sig(t.vsShipped.se), neutralToSad: sig(t.summary.pipeline.neutralToSad),
          })),
          clips: pubClips ? { faces: pubClipFaces.length, shipped: clipJson(pubClipShipped!), shippedFerPlusLabels: pubClipFerPlus ? clipJson(pubClipFerPlus) : null, chosen: clipJson(pubClipChosen!), chosenKey: chosen.key, smoothedReliability: reliability } : null,
          ms: { render: Math.round(sweep.msRender), blazeFace: Math.round(sweep.msDetect), cropAndClassifyAllSettings: Math.round(sweep.msCropClassify) },
        },
        privateTest: privSummary && privRun ? {
          faces: privFaces.length, of: priv.faces.length, blankLeftOut: priv.blank, frames: privRun.frames,
          missed: privRun.missed, falseDetections: privRun.falseDetections, framing: framingJson(privRun),
          shipped: faceJson(privSummary), shippedFerPlusLabels: privFerPlus ? faceJson(privFerPlus) : null, clips: privClip ? clipJson(privClip) : null, clipsFerPlusLabels: privClipFerPlus ? clipJson(privClipFerPlus) : null,
        } : null,
        wallS: (Date.now() - t0) / 1000,
      },
    };

    const rows: Row[] = [];
    const R = (figure: string, value: string, detail: string) => rows.push({ section: 'pipelineAccuracy', figure, value, detail });
    // A size's exact crops before and after the camera, between its still and pipeline figures.
    const sizeSteps = (b: FaceSummary['bySize'][number]) => (b.exactBeforeCamera === undefined ? '' : `${pct(b.exactBeforeCamera)} → ${pct(b.exactAfterCamera)} → `);
    const recallDetail = (s: FaceSummary) => EMOTIONS.map((e) => `${e} ${pct(s.still.recall[e], 2)}→${pct(s.pipeline.recall[e], 2)}`).join(', ');
    const headline = (split: string, s: FaceSummary, key: string) => {
      R(`${split}: still vs through the pipeline (${key})`, `${pct(s.still.accuracy)} → ${pct(s.pipeline.accuracy)}`,
        `gap ${pts(s.gap)} pts (paired se ${pts(s.gapSe)}) on the ${s.detected} detected of ${s.faces} faces; balanced ${pct(s.still.balancedAccuracy)} → ${pct(s.pipeline.balancedAccuracy)} (gap ${pts(s.gapBalanced)}); still on all ${s.faces} faces ${pct(s.stillAll.accuracy)}`);
      R(`${split}: detection rate (${key})`, pct(s.detectionRate),
        s.bySize.map((b) => `${b.bucket} px ${pct(b.detectionRate)} (${b.detected}/${b.faces}; still ${pct(b.stillAccuracy)} → ${sizeSteps(b)}${pct(b.pipelineAccuracy)})`).join(', ') + `; mean IoU ${sig(s.meanIou, 3)}`);
      if (s.exact) {
        R(`${split}: where the gap goes (same ${s.detected} faces)`, `${pct(s.still.accuracy)} → ${pct(s.exact.clean.accuracy)} → ${pct(s.exact.filmed.accuracy)} → ${pct(s.pipeline.accuracy)}`,
          `still → the placed patch cut out exactly before the camera (resampling, tint, soft edge) → the same after lighting/blur/noise/JPEG → the detector's crop (${key}); balanced ${pct(s.still.balancedAccuracy)} → ${pct(s.exact.clean.balancedAccuracy)} → ${pct(s.exact.filmed.balancedAccuracy)} → ${pct(s.pipeline.balancedAccuracy)}; every placed face, exact crop after the camera ${pct(s.exact.filmedAll.accuracy)} (still ${pct(s.stillAll.accuracy)})`);
      }
      R(`${split}: per-class recall, still → through`, '', recallDetail(s));
      R(`${split}: neutral called sad, still → through`, `${pct(s.still.neutralToSad)} → ${pct(s.pipeline.neutralToSad)}`, `sad called neutral ${pct(s.still.sadToNeutral)} → ${pct(s.pipeline.sadToNeutral)}`);
    };
    // The gap and its parts on the same detected faces, against FER+'s majority of each.
    const ferPlusRows = (split: string, s: FaceSummary | undefined, key: string) => {
      if (!s) return;
      R(`${split}, FER+ labels: still vs through the pipeline (${key})`, `${pct(s.still.accuracy)} → ${pct(s.pipeline.accuracy)}`,
        `gap ${pts(s.gap)} pts (paired se ${pts(s.gapSe)}) on the ${s.detected} detected faces with a FER+ majority; balanced ${pct(s.still.balancedAccuracy)} → ${pct(s.pipeline.balancedAccuracy)}; by size ` +
        s.bySize.map((b) => `${b.bucket} px ${pct(b.stillAccuracy)} → ${sizeSteps(b)}${pct(b.pipelineAccuracy)} (${b.detected})`).join(', ') +
        (s.exact ? `; where it goes: exact patch before the camera ${pct(s.exact.clean.accuracy)}, after it ${pct(s.exact.filmed.accuracy)}, the detector's crop ${pct(s.pipeline.accuracy)}` : '') +
        `; neutral called sad ${pct(s.still.neutralToSad)} → ${pct(s.pipeline.neutralToSad)}`);
    };
    const clipRow = (split: string, c: ClipSummary | undefined, key: string) => {
      if (!c) return;
      R(`${split}: per-person accuracy, ${c.clips} clips (${key})`, pct(c.personAccuracy),
        `right ${c.correct}, uncertain ${c.uncertain}, other emotion ${c.wrong}, no person ${c.noPerson} (of the ${c.withPerson} with a person ${pct(c.personAccuracyWithPerson)} right); balanced ${pct(c.personBalancedAccuracy)}; same faces still ${pct(c.stillAccuracy)}; per frame through the pipeline ${pct(c.frameAccuracy)} of detected frames (${pct(c.frameDetectionRate)} detected); neutral→sad person ${pct(c.neutralToSad)}, still ${pct(c.stillNeutralToSad)}; clips with >1 person ${c.extraPersons}`);
      for (const [k, v] of Object.entries(c.variants)) R(`${split}: aggregator ${k} (${key})`, pct(v.personAccuracy), `per person; emotion state right at ${pct(v.stateAccuracy)} of detected frames`);
      gapRow(split, c, key);
    };
    // Still against per person on the same faces (each clip whose face was detected at least once).
    const gapRow = (split: string, c: ClipSummary | undefined, key: string) => {
      if (!c) return;
      const g = c.personGap;
      R(`${split}: still vs per person, same faces (${key})`, `${pct(g.still)} → ${pct(g.person)}`,
        `gap ${pts(g.gap)} pts (paired se ${pts(g.gapSe)}) over the ${g.clips} clips whose face was detected; the face's mean log-probabilities over its detected frames ${pct(g.framesMean)} (gap ${pts(g.framesMeanGap)} ± ${pts(g.framesMeanGapSe)})`);
    };
    if (privSummary) {
      headline('PrivateTest', privSummary, shippedKey);
      ferPlusRows('PrivateTest', privFerPlus, shippedKey);
      clipRow('PrivateTest', privClip, shippedKey);
      gapRow('PrivateTest clips, FER+ labels', privClipFerPlus, shippedKey);
      R('PrivateTest: missed faces by reason', `${privRun!.missed.not_found + privRun!.missed.low_score + privRun!.missed.too_small + privRun!.missed.other_filter}`,
        `${Object.entries(privRun!.missed).map(([k, v]) => `${k} ${v}`).join(', ')}; false detections ${privRun!.falseDetections} in ${privRun!.frames} frames`);
    }
    headline('PublicTest', pubShipped, shippedKey);
    ferPlusRows('PublicTest', pubFerPlus, shippedKey);
    if (chosen.key !== shippedKey) headline('PublicTest', chosen.summary, `${chosen.key}, chosen`);
    clipRow('PublicTest', pubClipShipped, shippedKey);
    gapRow('PublicTest clips, FER+ labels', pubClipFerPlus, shippedKey);
    if (chosen.key !== shippedKey) clipRow('PublicTest', pubClipChosen, chosen.key);
    if (reliability) {
      R(`PublicTest clips: smoothed likeliest emotion right, by its probability (uncertainBelow ${parseAggregatorConfig({}).uncertainBelow})`, '',
        reliability.map((b) => `${b.from}-${b.to}: ${pct(b.accuracy)} of ${b.frames} (below ${b.to}: ${pct(b.shareBelowTo)} of frames, ${pct(b.accuracyBelowTo)} right)`).join('; '));
    }
    const fr = framingJson(sweep);
    R('PublicTest: BlazeFace box on the FER framing (median)', `side ${sig(fr.all.boxSideOverPatch, 3)}x`,
      `margin to the FER crop ${sig(fr.all.marginToPatch, 3)} (p25-p75 ${fr.all.marginToPatchIqr?.join('..')}), centre offset ${sig(fr.all.offsetYToPatch, 3)} box heights (${fr.all.offsetYToPatchIqr?.join('..')}); ` +
      Object.entries(fr.bySize).map(([b, x]) => `${b} px: ${sig(x.boxSideOverPatch, 3)}x, margin ${sig(x.marginToPatch, 3)}, offset ${sig(x.offsetYToPatch, 3)}`).join('; '));
    for (const t of ranked.slice(0, ctx.quick ? ranked.length : 12).concat(ranked.slice(ctx.quick ? ranked.length : 12).filter((t) => t.key === shippedKey))) {
      R(`sweep (PublicTest ${pubFaces.length}): ${t.key}${t.key === shippedKey ? ' (shipped)' : ''}${t === chosen ? ' (chosen)' : ''}`,
        `${pct(t.summary.pipeline.accuracy)} / ${pct(t.summary.pipeline.balancedAccuracy)}`,
        `vs shipped ${pts(t.vsShipped.mean)} ± ${pts(t.vsShipped.se)} pts (paired); neutral→sad ${pct(t.summary.pipeline.neutralToSad)}; detected ${t.summary.detected}/${t.summary.faces}`);
    }
    return { figures, rows };
  } finally {
    embedder.dispose();
  }
}
