/** The detector's configuration: one strict zod schema, parsed once at start-up. */
import { z } from 'zod';
import { parseConfig, settingsFromEnv } from '@emostream/runtime';
import { TILES_PATTERN } from './tiles.js';

/** The face detectors the service can run. */
export const DETECTORS = ['blazeface', 'haar'] as const;
/** A face detector name. */
export type DetectorName = (typeof DETECTORS)[number];

/** Where Debian's `opencv-data` package puts the paper's frontal-face cascade. */
export const DEFAULT_HAAR_CASCADE = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml';

/**
 * Every knob of the detector. Unknown keys fail; every field has a default, a description and its
 * unit in its name. The defaults were tuned on the sample photos and clips in `shared/data/media`
 * (see `blazeface.ts`).
 */
export const DetectorConfigSchema = z.strictObject({
  detector: z.enum(DETECTORS).default('blazeface')
    .describe('Face detector: blazeface (default, @vladmandic/human) or haar (the paper\'s OpenCV cascade)'),
  minScore: z.number().min(0).max(1).default(0.5)
    .describe('Least detector score for a face to be cropped (0..1); weaker candidates are counted as skipped low_score. Haar faces score 1'),
  candidateScore: z.number().min(0).max(1).default(0.3)
    .describe('Least score BlazeFace reports a candidate at (0..1, <= minScore); candidates between it and minScore are counted as low_score'),
  iouThreshold: z.number().min(0).max(1).default(0.2)
    .describe('BlazeFace non-max suppression: a candidate overlapping a stronger one by more than this IoU is dropped (0..1)'),
  minFaceSizePx: z.number().int().positive().default(20)
    .describe('Least side of a face box, px of the source frame; smaller faces are skipped too_small'),
  maxFaces: z.number().int().positive().default(20)
    .describe('Most faces cropped per frame (the highest-scoring ones); the rest are skipped max_faces'),
  marginFraction: z.number().min(0).max(1).default(0.1)
    .describe('Margin added on every side of the square face crop, as a fraction of the face box side. 0.1 with cropOffsetY -0.1 was chosen on FER-2013 PublicTest faces placed in frames (npm run bench -- --only pipelineAccuracy): with the shipped model 62.1% / 60.7% balanced through the pipeline, against 61.4% / 56.2% with 0.05 and no offset'),
  align: z.boolean().default(true)
    .describe('Rotate each crop about the face centre so the eyes are level, when the detector gives eyes'),
  maxAlignDeg: z.number().min(0).max(180).default(45)
    .describe('Largest roll of a face that is corrected, degrees (the eye line read in the face\'s own order, so 90 is a face on its side and 180 one upside down); a face turned further is cropped as it is. 110 suits a camera on people lying down: woman2 turned 90° either way in the picture then reads as upright (happy, neutral) instead of sad or fear, where 90 still leaves the face turned clockwise as it is (BlazeFace puts it at about 94°; bench/RESULTS.md, Session 24); BlazeFace\'s eyes are unreliable from about 120° (it takes an upside-down face for an upright one)'),
  cropOffsetY: z.number().min(-0.5).max(0.5).default(-0.1)
    .describe('Shift of the square crop\'s centre along the face\'s vertical axis, as a fraction of the face box height (negative: up, towards the forehead; 0: centred on the box)'),
  // 480: on the sample media (couple/two_people/justin, woman2 at 720p) the paper's cascade
  // finds exactly 2/2/1 and one face per frame; at 640 it adds a false face on two_people.jpg
  // and in 1 of 31 woman2 frames, at 800-1024 in 4-6 of 31; and it runs ~2x faster than at 640.
  // The price: faces under ~30 px of the downscaled frame (80 px of a 720p frame) are not found.
  detectMaxSidePx: z.number().int().min(64).default(480)
    .describe('Haar: frames whose longer side exceeds this are downscaled before detection, px (boxes are mapped back). BlazeFace always letterboxes to its 256 px input'),
  haarCascadePath: z.string().min(1).default(DEFAULT_HAAR_CASCADE)
    .describe('Haar: path of the cascade XML (Debian package opencv-data)'),
  haarScaleFactor: z.number().gt(1).default(1.1)
    .describe('Haar: detectMultiScale scale step between pyramid levels (the paper: 1.1)'),
  haarMinNeighbors: z.number().int().nonnegative().default(5)
    .describe('Haar: detectMultiScale minNeighbors (the paper: 5)'),
  haarMinSizePx: z.number().int().positive().default(30)
    .describe('Haar: smallest face searched, px of the downscaled frame (the paper: 30)'),
  sceneCuts: z.boolean().default(true)
    .describe('Detect hard cuts (the picture changes as a whole) and flag the first frame after one: every track ends there and the faces after it are identified afresh'),
  sceneCutMinChange: z.number().min(0).max(1).default(0.03)
    .describe('Least change between two frames for a cut: the median over an 8x6 grid of mean gray levels of each cell\'s change (0..1); hard cuts measured 0.041-0.044, motion within a shot at most 0.022'),
  sceneCutRatio: z.number().min(1).default(2)
    .describe('A cut also changes the picture this many times more than the camera\'s mean change over its last 5 frames (a steady pan or a flickering screen is no cut)'),
  embeddings: z.boolean().default(true)
    .describe('Compute appearance embeddings (Human\'s faceres model, in memory only) so the aggregator can keep identities apart and recognise persons who return'),
  embedEveryMs: z.number().int().positive().default(1000)
    .describe('Besides new faces and cuts, a face is embedded again this long after its first embedding, ms of media time, then after twice as long, and so on up to embedMaxEveryMs; a face with another face near it (centres within two face widths) stays at this period. Media time, not frames: analysing every frame of a 25 fps file costs no more embeddings a second than 10 fps (at 25 fps, six faces: 0.91 of the wall time of embedding every 10th frame, bench/RESULTS.md, Session 15)'),
  embedMaxEveryMs: z.number().int().positive().default(4000)
    .describe('The longest a face followed from frame to frame waits between embeddings, ms of media time (embedEveryMs doubling up to this; at or below embedEveryMs: every face once per embedEveryMs). A face cut by the frame\'s edge at its last embedding and whole now, or grown to 1.5 times the height it was embedded at, is embedded at once: a better likeness for recognising a person who returns'),
  embedMinFacePx: z.number().int().positive().default(20)
    .describe('Faces under this height (px of the frame) get no embedding. From 20 px a likeness links a person seen small in a wide shot to their close-up (the aggregator holds likenesses from faces under reidSmallFacePx to a stricter similarity); on reframe scenes with 26-38 px faces in the wide shot (BlazeFace\'s boxes 20-33 px), 40 kept 0 of 32 returns, 24 kept 17 and 20 kept 27 (bench/RESULTS.md, Sessions 22-25). Each embedding costs about 30 ms on 2 cores'),
  tiles: z.string().regex(TILES_PATTERN, 'off, auto or COLSxROWS (1-9 each, e.g. 3x2)').default('auto')
    .describe('Second detection pass on overlapping tiles, for faces too small for the full-frame pass (BlazeFace sees a 1280x720 frame 5x smaller, at 256 px): off, auto (BlazeFace only: tiles of at most a third of the frame\'s longer side, 4x2 at 1280x720, so faces are seen ~3x larger, and a finer grid of at most a 7th but no less than 0.7 of the input, 9x5 of 183x180 px, faces seen 1.4x larger, for faces of 20-40 px) or a grid COLSxROWS. Tiles overlap by a quarter; their faces are merged with the full-frame pass, whose faces of 24 input px and more are kept as they are'),
  tilesEveryFrames: z.number().int().positive().default(30)
    .describe('Every tile is searched at least once per n scheduled detections of a camera (tilesRolling), a rolling share of the grid on each (auto at 1280x720: 53 tiles, 30: two tiles a detection; a new small face found within 2.7 s where every frame is detected at 10 fps, within about 8 s where detections are detectEveryMs apart), plus, on every detection, the tiles where the last searches found a face; and a sweep of every tile on a camera\'s first frames, after a hard cut and after the frame size changed (tilesSweepFrames; each tile costs about one full-frame pass)'),
  tilesRolling: z.enum(['scheduled', 'every']).default('scheduled')
    .describe('Which detections search the rolling share of tiles (tilesEveryFrames): scheduled (the default), those that come on schedule (a camera\'s first frame, a cut, a new size, every detectEveryMs, or every frame with detectEveryMs 0), not the extra ones the carry asks for between them because a face moved or scored weakly (those still search the tiles holding faces and any sweep under way); every: all detections, as before Session 17. A new small face is then found within about 8 s at any motion (every tile once per 30 scheduled detections, 300 ms apart). On 720p, paired runs: one face 0.93 of the wall time every frame and 0.92 at 10 fps, six faces 0.87 every frame, the same timelines; the scene bench: per-frame accuracy, identities and small-face recall the same, faces of 150 px and more found 98.9% of the time against 99.2% (bench/RESULTS.md, Session 17)'),
  tilesSweepFrames: z.number().int().positive().default(1)
    .describe('A sweep of every tile (a camera\'s first frame, a hard cut, a new frame size) is spread over this many detected frames, ceil(tiles / n) tiles a frame (the coarse grid first, each share spread over the frame) plus the tiles holding faces, instead of all on one frame: at 720p on 2 cores a sweep of 26 tiles on one frame took about 1.4 s one at a time (0.3 s batched; 53 tiles batched 0.65 s), a latency spike at start and at every cut. 1 (the default, for files): the whole grid on one frame, which finds small faces soonest (4 lost 1 point of crowd recall and one return on the scene bench). A live camera\'s frames use tilesSweepFramesLive instead'),
  tilesSweepFramesLive: z.number().int().positive().default(27)
    .describe('tilesSweepFrames for a live camera\'s frames (RTSP and other live sources; over Kafka, frames marked live by ingest), where a queue at start delays every later frame. 27: about two tiles a frame at 720p (53 tiles), what a frame at 10 fps has room for on 2 cores, so small faces are found within 2.7 s of the start and no queue builds. On a 720p camera at 10 fps on 2 cores, frame → emotions p95 over 45 s with each network warmed up: 154-353 ms with 5 (first 10 s 171-558 ms, p99 188-674), 153-181 ms with 27 (first 10 s 160-327 ms, p99 182-344), five runs each; with 1, 325 ms (bench/RESULTS.md, Sessions 21 and 23)'),
  tilesApartLive: z.boolean().default(true)
    .describe('A live camera\'s frame pays for the full-frame pass or for its tile share, not for both, while its frames come at the camera\'s pace: a scheduled detection searches the frame and the tiles holding faces, and the share of the sweep or of the rolling grid it would have searched with them is searched alone on the next frame when that frame carries its faces (else with that frame\'s detection). A face found there that the carried faces lack makes the frame after it a detection (`detector_frames_total{reason="tile"}`), so a new small face is found one frame later. It costs one more network call per detection, so while frames are being skipped (the machine is behind) and for files the share goes with the detection. On a live 720p camera at 10 fps on 2 cores: frame → emotions p95 162-180 ms → 129-159 ms (bench/RESULTS.md, Session 26). false: live cameras as files'),
  tilesReleaseScore: z.number().min(0).max(1).default(0.8)
    .describe('A face small enough to hold a tile (under 30 of the full-frame pass\'s input pixels, 150 px of a 1280x720 frame) but placed well by the full-frame pass (24 input pixels or more, 120 px at 720p: its own box is kept over a tile\'s) holds no tile when that pass scored it above this: the pass finds it again, and its tile\'s search, one more network image on every detected frame, finds nothing new. 1: every such face holds its tile (as before Session 17). On a 720p clip with six faces of 120-149 px, every frame: 0.89 of the wall time (paired runs), the same timelines; the scene bench\'s figures all the same (bench/RESULTS.md, Session 17)'),
  tilesMinScore: z.number().min(0).max(1).default(0.65)
    .describe('Least score of a face found in a tile (0..1; the full-frame pass keeps minScore): magnified background makes more false faces, so it is stricter'),
  tilesLargeMinScore: z.number().min(0).max(1).default(0.75)
    .describe('Least score of a face found only in a tile (no full-frame face over it) whose height the full-frame pass sees at 16 of its input pixels or more (80 px of a 1280x720 frame, 40 px of 640x360): the full-frame pass sees a face that large, so one it missed is more often background magnified (a carving, a shoulder, hair: 6 such false faces on short_hamilton_clip, none left at 0.75); smaller tile faces keep tilesMinScore'),
  detectEveryMs: z.number().int().min(0).max(60_000).default(300)
    .describe('Run the detector at least once per this much of a camera\'s media time, ms; on the frames between, the last detection\'s faces are carried (re-cropped from the new frame, re-aligned with their eyes) while every one of them scored at least carryMinScore and its box barely changed (carryMaxMotion), and the frame is no hard cut. 0: detect every frame. 300 ms is every 3rd frame at 10 fps, as measured against every frame (bench/RESULTS.md, Session 8: the scene bench\'s accuracy, identities and recall within 0.3 points with a third fewer BlazeFace calls), and every 8th at 25 fps, so a face new elsewhere in the picture is found as soon at any frame rate (720p, 25 fps, every frame: 0.77 of the wall time of every 3rd frame with one face, 0.92 with six, with the classifier\'s reuseMaxMs; Session 15)'),
  carryMinScore: z.number().min(0).max(1).default(0.7)
    .describe('A detection is carried onto the next frames only when every face it kept scored at least this (0..1) and it dropped no candidate as low_score (a face that comes and goes): faces of 0.7 and more were found again on the next two frames of the sample clips, those of 0.5-0.6 in 91%'),
  carryMaxMotion: z.number().min(0).max(1).default(0.02)
    .describe('A detection is carried only while no face\'s box changed by more than this: the mean absolute change, against the detection\'s frame, of an 8x8 grid of mean gray levels over the box (gray levels / 255). At 0.02 carried boxes overlapped a fresh detection by IoU 0.94 or more for 90% of the faces of the sample clips'),
  cropReuseMs: z.number().int().min(0).max(10_000).default(100)
    .describe('A carried face (detectEveryMs: the last detection\'s box, barely changed) keeps its last 48x48 crop for this long in media time instead of being cut again from each frame. The classifier classifies a face at most once per its reuseMinMs (100 by default) and gives the frames between its last probabilities, so those frames\' fresh crops went unused: at 25 fps, every frame of a 720p clip, 100 took the wall time to 0.89 of before with one face and with six (bench/RESULTS.md, Session 17). Frames 100 ms apart (10 fps) are all cut afresh; a detected frame always is. Keep it no larger than the classifier\'s reuseMinMs; 0: every frame cut afresh')
}).superRefine((c, ctx) => {
  if (c.candidateScore > c.minScore) {
    ctx.addIssue({
      code: 'custom', path: ['candidateScore'],
      message: `candidateScore (${c.candidateScore}) must be <= minScore (${c.minScore}): candidates below minScore are only counted, so lower candidateScore or raise minScore`,
    });
  }
});

/** The parsed configuration (all fields present). */
export type DetectorConfig = z.output<typeof DetectorConfigSchema>;
/** What a caller may pass (every field optional). */
export type DetectorConfigInput = z.input<typeof DetectorConfigSchema>;

/** The default configuration. */
export const DEFAULT_DETECTOR_CONFIG: DetectorConfig = Object.freeze(DetectorConfigSchema.parse({}));

/** Parses a configuration; throws one error listing every bad field and what to change. */
export function parseDetectorConfig(input: unknown = {}): DetectorConfig {
  return parseConfig(DetectorConfigSchema, 'detector', input);
}

/** The env prefix of the detector service's settings ({@link DetectorConfigSchema}). */
export const DETECTOR_PREFIX = 'DETECTOR_';

/**
 * Reads the configuration from `DETECTOR_*` variables (`DETECTOR_MIN_FACE_SIZE_PX=48`): the one
 * place the detector reads `process.env`. Unknown names and bad values fail naming the variable.
 */
export function detectorConfigFromEnv(env: NodeJS.ProcessEnv = process.env, prefix = DETECTOR_PREFIX): DetectorConfig {
  return settingsFromEnv(DetectorConfigSchema, prefix, env, { what: 'detector' });
}
