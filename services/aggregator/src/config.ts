/** The aggregator's configuration: one strict zod schema, parsed once at start-up. */
import { z } from 'zod';
import { parseConfig, settingsFromEnv } from '@emostream/runtime';

/**
 * Every knob of the aggregator. Unknown keys fail; every field has a default, a description and
 * its unit in its name. Times are media time (the frames' `mediaTimeMs`), never the wall clock.
 */
export const AggregatorConfigSchema = z.strictObject({
  smoothingMs: z.number().positive().default(500)
    .describe('Time constant of the exponential moving average over each person\'s 7 probabilities, ms of media time: the probabilities and confidence events carry, and what the hysteresis decides on (liveDecoding hysteresis)'),
  smoothingSpace: z.enum(['log', 'probability']).default('probability')
    .describe('What the moving average runs over: probability (the 7 probabilities) or log (their logarithms, renormalised: a weighted geometric mean, where a sure frame moves a person\'s emotion more than an unsure one and a steady emotion outweighs one that spikes now and then)'),
  smoothingWarmup: z.boolean().default(true)
    .describe('Bias-correct the moving average while a person is young (as Adam does its moments): their frames count alike until about smoothingMs has passed, instead of the first frame outweighing the next ones'),
  minDwellMs: z.number().nonnegative().default(400)
    .describe('With liveDecoding hysteresis: how long a new emotion must lead the current one by switchMargin before the dominant emotion changes, ms'),
  uncertainBelow: z.number().min(0).max(1).default(0.3)
    .describe('A person\'s emotion is `uncertain` while no emotion is clear (0: never): with the change points, while the mean probability of their current emotion over its segment is under this; with the hysteresis, while no emotion\'s smoothed probability reaches it. Chosen on the smoothed probabilities of 300 FER-2013 PublicTest faces filmed and tracked through the pipeline (`BENCH_ACCURACY_CLIPS=300 npm run bench -- --only pipelineAccuracy` prints the table): under 0.30 the likeliest emotion is right 21% of the time (5.6% of frames), from 0.30 to 0.40 33%, above 0.5 57-94%. With the change points (Session 31, the scene bench\'s scenes replayed) the frames it marks would have been right 43% of the time, against 69% for all frames'),
  switchMargin: z.number().min(0).max(1).default(0.1)
    .describe('With liveDecoding hysteresis: lead in smoothed probability a new emotion needs over the current one to start replacing it (0..1)'),
  uncertainMargin: z.number().min(0).max(1).default(0.05)
    .describe('The margin of uncertain: an emotion leaves uncertain once it reaches uncertainBelow plus this, and the current emotion becomes uncertain once it falls under uncertainBelow minus this (with the hysteresis: its smoothed probability, each for minDwellMs; with change points: the mean probability over its segment)'),
  liveDecoding: z.enum(['hysteresis', 'changePoint']).default('changePoint')
    .describe('How the live dominant emotion (events, the live timeline) is decided. changePoint: the online form of the timelines with hindsight; another emotion replaces the current one once it has gathered changePointCost nats x seconds of log-probability against it since some frame (Page\'s CUSUM on the classifier\'s per-frame log-probabilities), the change dated where that evidence began; a segment whose emotion\'s mean probability is under uncertainBelow is uncertain. hysteresis: the smoothed probabilities\' leader must lead by switchMargin for minDwellMs, the change dated from when its lead began (the default until 2026-12-07). On the scene bench\'s 13 scenes (CK+ faces, its messages replayed) the live timeline was right at 66.7% of the matched faces\' frames against 62.1% (basic scenes 61.1% against 55.1%; per frame 66.7% and 59.0%), with the same 73 of 114 expression changes given their event, dated 600 against 800 ms after the change (median), and fewer emotion.changed events (109 against 126)'),
  changePointCost: z.number().positive().default(2)
    .describe('With liveDecoding changePoint: the evidence another emotion must gather against the current one to replace it, in nats x seconds (a frame of d seconds adds d x (log P(new) - log P(current))). Chosen on ten scene-bench scenes of other seeds than the bench\'s, as the most accurate live timeline with no more segments per person-minute than the hysteresis there and on the sample clips (woman2 at 10 and 25 fps, short_hamilton_clip, six faces of woman2): 2 gave 65.1% against 61.4%; 0.8 and 1.6 were about as accurate but cut woman2 into more segments (39 and 23.4 a minute against 19.5: a talking mouth read as surprise for a few frames)'),
  timelineHindsight: z.boolean().default(false)
    .describe('Build the timelines (timelines.json, the report) with hindsight: each person\'s segments chosen over all of their frames at once (Viterbi over the classifier\'s per-frame log-probabilities, hindsightSwitchCost per change; a segment whose emotion\'s mean probability is under uncertainBelow is uncertain), so a change is dated where the frames turn instead of a few hundred ms later. Events stay live (frame by frame). analyze turns it on; the Kafka aggregator leaves it off. On the scene bench (CK+ faces; `npm run bench -- --only scene`, its messages replayed) the timeline was right at 67.0% of the matched faces\' frames against 61.6% live by the hysteresis of the day (9 scenes; per frame 67.0%), with fewer segments (10.7 against 11.8 per person-minute) and less uncertain time (3.0% against 4.6%)'),
  hindsightSwitchCost: z.number().nonnegative().default(0.8)
    .describe('With timelineHindsight: what one change of emotion costs, in nats x seconds (a frame of d seconds adds d x log P(emotion)): an emotion must gain this much log-probability over the frames it spans to be entered and left again. Chosen on six scene-bench scenes of other seeds than the bench\'s, as the most accurate timeline with no more segments per person-minute than the live one there and on the two sample clips: 0.2 was more accurate on the scenes (62.5% against 60.3%; live 56.7%) but cut a talking, smiling face into 3.6 times as many segments as the live timeline; 0.8 gives as many'),
  hindsightMaxFrames: z.number().int().positive().default(36_000)
    .describe('With timelineHindsight: frames of one person kept in memory (1 hour at 10 fps; 8 numbers each); past it the older part is decided for good, the last 10 s staying open'),
  maxMissMs: z.number().nonnegative().default(1000)
    .describe('How long a track coasts on its constant-velocity prediction while no face matches it, ms'),
  personTtlMs: z.number().positive().default(2000)
    .describe('Media time without a face after which a person track is evicted and person.left emitted, ms (>= maxMissMs)'),
  iouThreshold: z.number().min(0).max(1).default(0.2)
    .describe('Least intersection-over-union between a track\'s predicted box and a face for them to match (0..1)'),
  maxJumpFaceWidths: z.number().nonnegative().default(0.75)
    .describe('A face whose centre lies within this many face widths of a track\'s predicted centre may match it even below iouThreshold'),
  maxSizeRatio: z.number().min(1).default(1.6)
    .describe('Largest ratio between the widths of a track\'s predicted box and a face it matches'),
  confirmHits: z.number().int().positive().default(3)
    .describe('A new track becomes a person once seen in confirmHits of its first confirmWindowFrames frames'),
  confirmWindowFrames: z.number().int().positive().default(5)
    .describe('Frames (of its camera) within which a new track must collect confirmHits matches, else it is dropped'),
  appearanceWeight: z.number().nonnegative().default(0.5)
    .describe('Weight of the appearance distance (1 - cosine similarity of face embeddings) in the matching cost, when both the track and the face have one'),
  minAppearanceSimilarity: z.number().min(-1).max(1).default(0.35)
    .describe('Least cosine similarity between a track\'s and a face\'s embeddings for them to match: a face that looks like someone else does not continue the track'),
  jumpMinAppearanceSimilarity: z.number().min(-1).max(1).default(0.5)
    .describe('Least cosine similarity for a face that jumped (its box overlaps the track\'s predicted box by under 0.5 IoU; the detector embeds such a face at once) to continue the track, instead of minAppearanceSimilarity: a jump between two frames may be a cut the scene-cut detector missed between two like shots, and the track must not carry its person onto someone else. Same-person jumps on the sample clips measured 0.61-0.81; a stranger after a missed cut between two close-ups 0.45 (bench/RESULTS.md, Session 25)'),
  reidMinSimilarity: z.number().min(-1).max(1).default(0.6)
    .describe('Least cosine similarity between a new person\'s embedding and one who left this camera for the new one to get the old personId back (person.appeared with returning: true); 1 disables re-identification. Measured on the scene bench: one person across a return 0.57-0.98 (p5-p95), two people up to 0.52 (p95); with reidCutFaces whole-first (Session 13) 0.55 and 0.6 gave 12 of 12 returns and no wrong id, 0.5 11 of 12 with one stranger given an id, 0.65 9 of 12, 0.7 6 of 12'),
  reidCutFaces: z.enum(['whole-first', 'alike']).default('whole-first')
    .describe('How embeddings of faces cut by the frame\'s edge (the box reaches it, or stops within 15% of its size short of it) count: whole-first (in a person\'s appearance only until a whole face\'s is known, which then replaces them; and a new person seen only cut, while someone who left could be them, is announced once a whole face\'s embedding arrives, at most reidWaitMs after first seen, so a person coming back in from the side is recognised on their face rather than the sliver first seen) or alike (every embedding counts the same). On the scene bench (same messages replayed) alike gave 10 of 12 returns, whole-first 12, with no stranger given an id either way'),
  reidWaitMs: z.number().nonnegative().default(2000)
    .describe('How long a new person seen only cut by the frame\'s edge may wait for a whole face\'s embedding before person.appeared (reidCutFaces whole-first), ms of media time; only while someone who left this camera (or, with reidAcrossCameras, another) could be them. The detector embeds a face when it is new and again as soon as it is whole (its embedEveryMs period aside), so 2000 covers a face that takes up to two seconds to come in; also the longest a second look (reidSecondLookSimilarity) waits. 0: no waiting'),
  reidSecondLookSimilarity: z.number().min(-1).max(1).default(0.5)
    .describe('A new person whose first whole-face embedding resembles someone who left this camera at least this much, but less than reidMinSimilarity, gets a second look: they stay unannounced until the detector embeds their face again (about a second later, detector.embedEveryMs) or reidWaitMs after first seen, and are then identified on the running mean of their embeddings. One embedding of a face after a cut to another shot size or angle can fall short of reidMinSimilarity where two reach it (bench/RESULTS.md, Session 22: the performer of the sample clip, 0.55 then 0.65). At or above reidMinSimilarity: never'),
  reidSmallFacePx: z.number().int().nonnegative().default(40)
    .describe('A likeness taken only from faces under this height (px of the frame), on either side (the new person or the one who left), is held to reidSmallFaceMinSimilarity instead of reidMinSimilarity, a stricter bar where the likeness is less certain; larger faces keep reidMinSimilarity, since a global 0.65 costs their returns (bench/RESULTS.md, Sessions 22-23). 0: every likeness is held to reidMinSimilarity'),
  reidSmallFaceMinSimilarity: z.number().min(-1).max(1).default(0.65)
    .describe('Least cosine similarity for a new person to get the personId of one who left this camera when either was seen only as a face under reidSmallFacePx (and a second look, reidSecondLookSimilarity, waits below it); across cameras (reidAcrossCameras) the same pair is held to the higher of this and reidAcrossCamerasMinSimilarity. On reframe scenes whose wide shot has 26-38 px faces, with detector.embedMinFacePx 24: 0.6 kept 17 of 32 returns with one stranger given an id, 0.65 17 with none (bench/RESULTS.md, Session 22)'),
  galleryMaxAgeMs: z.number().nonnegative().default(600_000)
    .describe('How long a person who left stays recognisable for re-identification, ms of media time'),
  galleryMaxPersons: z.number().int().nonnegative().default(50)
    .describe('Persons who left kept for re-identification per camera at most (the oldest are forgotten first)'),
  reidAcrossCameras: z.boolean().default(false)
    .describe('Link persons across cameras: a new person whose embedding resembles one who left another camera within galleryMaxAgeMs (of capture time) keeps this camera\'s own personId, and their events and timeline carry sameAs (the camera and personId they were first seen as). Off by default: it compares faces between cameras, which a site may not want; embeddings stay in memory either way'),
  reidAcrossCamerasMinSimilarity: z.number().min(-1).max(1).default(0.7)
    .describe('Least cosine similarity between a new person\'s embedding and one who left another camera for them to be linked (with reidAcrossCameras). Stricter than reidMinSimilarity: a wrong link joins two strangers\' timelines, every camera\'s leavers are candidates, and light and angle differ between cameras. Measured across cameras on CK+ faces (`npm run bench -- --only crossCamera`): one person 0.64-0.93 (p5-p95, first face against the mean of the other camera\'s), two people up to 0.55 (p95, at most 0.755); over 16 cameras 0.7 linked 13 of 20 with none wrong, 0.65 17 with 2 strangers linked'),
  reidAcrossCamerasMaxPersons: z.number().int().nonnegative().default(200)
    .describe('Persons who left kept for linking across cameras at most, over all cameras (one entry per person, the last camera they left; the oldest are forgotten first)'),
  finishedMaxPersons: z.number().int().nonnegative().default(500)
    .describe('Persons who left kept in memory per camera for the timelines, the latest to leave (never in the state record: a restart does not need them); older ones are forgotten so a camera watched for weeks keeps bounded memory. 0 keeps all (what analyze does: a file\'s timelines.json lists everyone)'),
  cameraIdleMs: z.number().nonnegative().default(60_000)
    .describe('End a camera (person.left for its open persons) when other cameras\' frames were captured this long after its last one, ms of capture time; 0 disables'),
}).superRefine((c, ctx) => {
  if (c.personTtlMs < c.maxMissMs) {
    ctx.addIssue({
      code: 'custom', path: ['personTtlMs'],
      message: `personTtlMs (${c.personTtlMs}) must be >= maxMissMs (${c.maxMissMs}): a person cannot leave while its track may still coast; raise personTtlMs or lower maxMissMs`,
    });
  }
  if (c.confirmHits > c.confirmWindowFrames) {
    ctx.addIssue({
      code: 'custom', path: ['confirmHits'],
      message: `confirmHits (${c.confirmHits}) must be <= confirmWindowFrames (${c.confirmWindowFrames}), else no track is ever confirmed`,
    });
  }
});

/** The parsed configuration (all fields present). */
export type AggregatorConfig = z.output<typeof AggregatorConfigSchema>;
/** What a caller may pass (every field optional). */
export type AggregatorConfigInput = z.input<typeof AggregatorConfigSchema>;

/** The default configuration. */
export const DEFAULT_AGGREGATOR_CONFIG: AggregatorConfig = Object.freeze(AggregatorConfigSchema.parse({}));

/**
 * Parses a configuration; throws one error listing every bad field and what to change.
 */
export function parseAggregatorConfig(input: unknown = {}): AggregatorConfig {
  return parseConfig(AggregatorConfigSchema, 'aggregator', input);
}

/** The env prefix of the aggregator service's settings ({@link AggregatorServiceConfigSchema}). */
export const AGGREGATOR_PREFIX = 'AGGREGATOR_';

/**
 * The aggregator service's settings (`AGGREGATOR_*`): the aggregator's configuration plus what
 * the service needs besides it, its Kafka transactional id.
 */
export const AggregatorServiceConfigSchema = AggregatorConfigSchema.extend({
  transactionalId: z.string().min(1).optional()
    .describe('Kafka transactional id of this aggregator instance: unique per instance and stable across its restarts (several aggregators may share the group if each has its own); default: `<group id>-tx`'),
});

/** The parsed service settings. */
export type AggregatorServiceConfig = z.output<typeof AggregatorServiceConfigSchema>;

/**
 * Reads the aggregator service's settings from `AGGREGATOR_*` variables (`AGGREGATOR_SMOOTHING_MS=300`,
 * `AGGREGATOR_TRANSACTIONAL_ID=agg-0`): the one place the aggregator reads `process.env`. Unknown
 * names and bad values fail naming the variable.
 */
export function aggregatorConfigFromEnv(env: NodeJS.ProcessEnv = process.env, prefix = AGGREGATOR_PREFIX): AggregatorServiceConfig {
  return settingsFromEnv(AggregatorServiceConfigSchema, prefix, env, { what: 'aggregator' });
}
