/**
 * Linking across cameras (the aggregator's `reidAcrossCameras`) on real faces and the real
 * embedder: seeded pairs of cameras (bench/scene/cameraPairs.ts: camera A shows four CK+
 * subjects who leave; camera B, later, shows two or three of them again at another size, place
 * and light, and two strangers) rendered to 720p video, each camera run through the embedded
 * pipeline (BlazeFace, faceres embeddings, the classifier), then every camera's messages
 * replayed in capture-time order through one aggregator with `reidAcrossCameras: true`, at
 * several `reidAcrossCamerasMinSimilarity`. Two sites: every pair's cameras in one aggregator
 * (all pairs at once: each new person of a camera B is compared with every camera's leavers)
 * and each pair alone. Scored by subject: a link is right when `sameAs` names a person of the
 * same subject; a person of B who was a person on A before and got no right link is missed.
 */
import path from 'node:path';
import { argmaxEmotion, unpackEmbedding, type EmotionEvent, type EmotionsMessage } from '@emostream/contracts';
import { Aggregator, cosineSimilarity, parseAggregatorConfig } from '@emostream/aggregator';
import { DATA_DIR, type BenchContext, type Row } from '../lib/context.js';
import { runEmbedded } from '../lib/embedded.js';
import { ffmpeg } from '../lib/ffmpeg.js';
import { sig } from '../lib/stats.js';
import type { Scene } from '../scene/generate.js';
import { LIGHTS, drawPairSubjects, generateCameraPair, type CameraPair } from '../scene/cameraPairs.js';
import { loadCkPlusCatalogue, renderScene } from '../scene/render.js';
import { matchedFaces, similarityStats, type ObservedFrame } from '../scene/score.js';

/** Seeds of the pairs (fixed: the same pairs in every run) and of their subjects. */
const PAIR_SEEDS = [811, 822, 833, 844, 855, 866, 877, 888];
const SUBJECTS_SEED = 8_000;
/** The `reidAcrossCamerasMinSimilarity` values replayed. */
const THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8];
/** Capture time of every camera A's first frame (camera B's is `bStartMs` later). */
const T0 = Date.UTC(2026, 0, 1);

/** One camera of a pair, run through the pipeline. */
interface CameraRun {
  cameraId: string;
  pair: string;
  side: 'a' | 'b';
  scene: Scene;
  /** Capture time of its first frame. */
  startMs: number;
  messages: EmotionsMessage[];
  wallMsPerFrame: number | null;
}

/** How the links of one replay came out. */
interface LinkScore {
  /** Persons of a camera who were persons on another camera before (the links to make). */
  expected: number;
  right: number;
  /** Links that name a person of another subject: for a person seen before, and for a stranger (or a false detection). */
  wrongPerson: number;
  wrongStranger: number;
  missed: number;
}

/** Renders camera A as it is and camera B under its light, and runs each through the embedded pipeline. */
async function runPair(ctx: BenchContext, pair: CameraPair): Promise<CameraRun[]> {
  const out: CameraRun[] = [];
  for (const side of ['a', 'b'] as const) {
    const scene = pair[side];
    const file = path.join(ctx.tmp, `${scene.name}.mp4`);
    if (side === 'a') await renderScene(scene, file);
    else {
      const raw = path.join(ctx.tmp, `${scene.name}-unlit.mp4`);
      await renderScene(scene, raw);
      await ffmpeg(['-i', raw, '-vf', pair.light.filter, '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-bf', '0', '-pix_fmt', 'yuv420p', file]);
    }
    const messages: EmotionsMessage[] = [];
    const cameraId = `${pair.name}-${side}`;
    const r = await runEmbedded({
      source: file, cameraId, fps: scene.fps, detector: await ctx.detector(), embedder: await ctx.embedder(), model: await ctx.emotionModel(),
      backend: ctx.rt.provider, onEmotions: (m) => messages.push(m),
    });
    out.push({ cameraId, pair: pair.name, side, scene, startMs: T0 + (side === 'b' ? pair.bStartMs : 0), messages, wallMsPerFrame: r.stages.wallMsPerFrame });
  }
  return out;
}

/**
 * One aggregator over the cameras' messages merged by capture time (each camera's frames at its
 * start plus their media time), linking across cameras at `minSimilarity`: its events and, per
 * camera, the frames with the person id each face was given.
 */
function replaySite(runs: readonly CameraRun[], minSimilarity: number): { events: EmotionEvent[]; observed: Map<string, ObservedFrame[]> } {
  const persons = new Map<string, string>();
  const agg = new Aggregator({
    config: parseAggregatorConfig({ reidAcrossCameras: true, reidAcrossCamerasMinSimilarity: minSimilarity }),
    onPersonFace: (f, j, personId) => persons.set(`${f.cameraId}:${f.seq}:${j}`, personId),
  });
  const merged = runs.flatMap((r) => r.messages.map((m) => ({ ...m, frame: { ...m.frame, capturedAtMs: r.startMs + m.frame.mediaTimeMs } })))
    .sort((x, y) => x.frame.capturedAtMs - y.frame.capturedAtMs);
  const events: EmotionEvent[] = [];
  for (const m of merged) events.push(...agg.push(m));
  events.push(...agg.end());
  const observed = new Map(runs.map((r) => [r.cameraId, r.messages.map((m): ObservedFrame => ({
    mediaTimeMs: m.frame.mediaTimeMs,
    faces: m.faces.map((f, j) => ({ box: f.box, emotion: argmaxEmotion(f.probabilities).emotion, personId: persons.get(`${r.cameraId}:${m.frame.seq}:${j}`) })),
  }))]));
  return { events, observed };
}

/** Scores a replay's links by subject (see the module's comment). */
function scoreLinks(runs: readonly CameraRun[], replayed: ReturnType<typeof replaySite>): LinkScore {
  // The subject of each camera's person ids: the one most of its matched faces show.
  const subjectOf = new Map<string, string>();
  for (const r of runs) {
    const counts = new Map<string, Map<string, number>>();
    for (const m of matchedFaces(r.scene, replayed.observed.get(r.cameraId)!)) {
      if (!m.personId) continue;
      const c = counts.get(m.personId) ?? new Map<string, number>();
      c.set(m.person, (c.get(m.person) ?? 0) + 1);
      counts.set(m.personId, c);
    }
    for (const [pid, c] of counts) subjectOf.set(`${r.cameraId}/${pid}`, [...c].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0]);
  }
  // In the order they appeared: a subject that was a person on another camera before is a link to make.
  const seenOn = new Map<string, Set<string>>();
  const expected = new Set<string>();
  const right = new Set<string>();
  const s: LinkScore = { expected: 0, right: 0, wrongPerson: 0, wrongStranger: 0, missed: 0 };
  for (const e of replayed.events) {
    if (e.type !== 'person.appeared') continue;
    const self = subjectOf.get(`${e.cameraId}/${e.personId}`);
    const cams = self === undefined ? undefined : seenOn.get(self) ?? new Set<string>();
    if (self !== undefined && cams && !cams.has(e.cameraId)) {
      if (cams.size > 0) expected.add(`${e.cameraId}/${self}`);
      cams.add(e.cameraId);
      seenOn.set(self, cams);
    }
    if (!e.sameAs || e.returning) continue;
    const target = subjectOf.get(`${e.sameAs.cameraId}/${e.sameAs.personId}`);
    if (self !== undefined && self === target) { s.right++; right.add(`${e.cameraId}/${self}`); }
    else if (self !== undefined && expected.has(`${e.cameraId}/${self}`)) s.wrongPerson++;
    else s.wrongStranger++;
  }
  s.expected = expected.size;
  s.missed = [...expected].filter((k) => !right.has(k)).length;
  return s;
}

/** Unit vector of `v`'s direction. */
const unit = (v: readonly number[]) => { const n = Math.hypot(...v) || 1; return v.map((x) => x / n); };

/**
 * Embedding similarities across cameras (every camera A's faces against every camera B's):
 * face by face, same subject or not; and, nearer what a link compares, the first embedding of
 * each person of B against the mean embedding of each person of A.
 */
function similarities(runs: readonly CameraRun[]) {
  const samples = runs.map((r) => {
    const observed = r.messages.map((m): ObservedFrame => ({ mediaTimeMs: m.frame.mediaTimeMs, faces: m.faces.map((f) => ({ box: f.box, emotion: argmaxEmotion(f.probabilities).emotion })) }));
    const xs = matchedFaces(r.scene, observed).flatMap((m) => {
      const e = r.messages[m.frame].faces[m.face].embedding;
      return e ? [{ subject: m.person, tMs: m.tMs, vector: unpackEmbedding(e) }] : [];
    });
    return { side: r.side, xs };
  });
  const face = { same: [] as number[], different: [] as number[] };
  const person = { same: [] as number[], different: [] as number[] };
  const bySubject = (xs: Array<{ subject: string; tMs: number; vector: number[] }>) => {
    const m = new Map<string, Array<{ tMs: number; vector: number[] }>>();
    for (const x of xs) m.set(x.subject, [...(m.get(x.subject) ?? []), x]);
    return m;
  };
  const aMeans = samples.filter((s) => s.side === 'a').flatMap((s) => [...bySubject(s.xs)].map(([subject, vs]) => ({
    subject, vector: unit(vs[0].vector.map((_, i) => vs.reduce((sum, v) => sum + v.vector[i], 0))),
  })));
  const aFaces = samples.filter((s) => s.side === 'a').flatMap((s) => s.xs);
  for (const b of samples.filter((s) => s.side === 'b')) {
    for (const x of b.xs) for (const y of aFaces) (x.subject === y.subject ? face.same : face.different).push(cosineSimilarity(x.vector, y.vector));
    for (const [subject, vs] of bySubject(b.xs)) {
      const first = vs.reduce((p, q) => (q.tMs < p.tMs ? q : p));
      for (const a of aMeans) (a.subject === subject ? person.same : person.different).push(cosineSimilarity(first.vector, a.vector));
    }
  }
  const stats = (xs: number[]) => similarityStats(xs, THRESHOLDS);
  return { faces: { same: stats(face.same), different: stats(face.different) }, persons: { same: stats(person.same), different: stats(person.different), maxDifferent: sig(Math.max(...person.different), 3) } };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${sig(x * 100, 3)} %`);

/** Runs the section. */
export async function crossCameraSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const catalogue = loadCkPlusCatalogue(DATA_DIR);
  const seeds = ctx.quick ? PAIR_SEEDS.slice(0, 2) : PAIR_SEEDS;
  const subjects = drawPairSubjects(catalogue, SUBJECTS_SEED, seeds.length);
  const pairs = seeds.map((seed, k) => generateCameraPair(seed, catalogue, subjects[k], LIGHTS[k % LIGHTS.length]));
  const runs: CameraRun[] = [];
  for (const pair of pairs) {
    ctx.log(`crossCamera: ${pair.name}: render A (${pair.a.faces.length} faces, ${pair.a.durationMs / 1000} s) and B (${pair.b.faces.length} faces, ${pair.b.durationMs / 1000} s, ${pair.light.name}), run both`);
    runs.push(...await runPair(ctx, pair));
  }
  const defaultMin = parseAggregatorConfig({}).reidAcrossCamerasMinSimilarity;
  const sweep = THRESHOLDS.map((minSimilarity) => {
    const site = scoreLinks(runs, replaySite(runs, minSimilarity));
    const perPair = pairs.map((p) => { const rs = runs.filter((r) => r.pair === p.name); return scoreLinks(rs, replaySite(rs, minSimilarity)); })
      .reduce((a, b) => ({ expected: a.expected + b.expected, right: a.right + b.right, wrongPerson: a.wrongPerson + b.wrongPerson, wrongStranger: a.wrongStranger + b.wrongStranger, missed: a.missed + b.missed }));
    return { minSimilarity, site, perPair };
  });
  const sim = similarities(runs);
  const frames = runs.reduce((n, r) => n + r.messages.length, 0);
  const embedded = runs.reduce((n, r) => n + r.messages.reduce((k, m) => k + m.faces.filter((f) => f.embedding).length, 0), 0);
  const wall = runs.map((r) => r.wallMsPerFrame ?? 0).reduce((a, b) => a + b, 0) / runs.length;
  const atDefault = sweep.find((x) => x.minSimilarity === defaultMin);

  const figures = {
    crossCameraLinksRightAtDefault: atDefault?.site.right ?? null,
    crossCameraLinksWrongAtDefault: atDefault ? atDefault.site.wrongPerson + atDefault.site.wrongStranger : null,
    crossCamera: {
      generator: 'bench/scene/cameraPairs.ts (seeded): camera A 12 s, four CK+ subjects of 160-230 px who leave at 2.5-8 s; camera B from 5 s later, 14 s, two or three of them again at 0.55-1.2x (110-260 px) elsewhere, each at least 2.5 s after leaving A, and two strangers; B under another light (an ffmpeg filter). 1280x720, 10 fps; no subject in two pairs',
      pairs: pairs.map((p) => ({ name: p.name, light: p.light.name, seenOnBoth: p.seenOnBoth, strangers: p.strangers })),
      frames, embeddedFaces: embedded, wallMsPerFrame: sig(wall, 3), defaultMinSimilarity: defaultMin, model: ctx.model.description,
      sweep, similarity: sim,
      note: 'site: every camera in one aggregator (all pairs at once); perPair: each pair alone. expected: persons of a camera whose subject was a person on another camera before; right: sameAs names a person of the same subject; wrongPerson: such a person linked to another subject; wrongStranger: a person not seen before (or a false detection) linked; missed: expected without a right link',
    },
  };
  const rows: Row[] = [
    ...sweep.map(({ minSimilarity, site, perPair }) => ({
      section: 'crossCamera', figure: `links right, reidAcrossCamerasMinSimilarity ${minSimilarity}${minSimilarity === defaultMin ? ' (default)' : ''}`, value: `${site.right}/${site.expected}`,
      detail: `one site of ${runs.length} cameras: wrong ${site.wrongPerson + site.wrongStranger} (a stranger ${site.wrongStranger}, the wrong person ${site.wrongPerson}), missed ${site.missed}; each pair alone: right ${perPair.right}/${perPair.expected}, wrong ${perPair.wrongPerson + perPair.wrongStranger}, missed ${perPair.missed}`,
    })),
    ...(['faces', 'persons'] as const).map((k) => ({
      section: 'crossCamera', figure: `similarity across cameras p50, same / different subject (${k === 'faces' ? 'face by face' : 'B\'s first face vs A\'s mean'})`, value: `${sim[k].same.p50} / ${sim[k].different.p50}`,
      detail: (['same', 'different'] as const).map((w) => {
        const x = sim[k][w];
        return `${w} p5-p95 ${x.p5}..${x.p95} (n ${x.pairs}; >=0.6 ${pct(x.atLeast['0.60'])}, >=0.7 ${pct(x.atLeast['0.70'])}, >=0.8 ${pct(x.atLeast['0.80'])})`;
      }).join('; ') + (k === 'persons' ? `; highest different ${sim.persons.maxDifferent}` : ''),
    })),
    { section: 'crossCamera', figure: 'pipeline wall ms per frame', value: `${sig(wall, 3)} ms`, detail: `mean over ${runs.length} cameras, ${frames} frames, ${embedded} faces embedded` },
  ];
  return { figures, rows };
}
