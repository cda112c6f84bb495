/** The detector stage: frames in, one faces message per frame out (crops ready for the classifier). */
import { concatMap, defer, EMPTY, from, of, type OperatorFunction } from 'rxjs';
import { packEmbedding, type FaceBox, type FaceCrop, type FacesMessage, type Frame, type FrameRef } from '@emostream/contracts';
import type { Logger, PipelineMetrics } from '@emostream/runtime';
import type { DetectorConfig } from './config.js';
import { cropFace, filterFaces } from './crop.js';
import { frameToRgb, type RgbImage } from './decode.js';
import { detectEach, type FaceDetector } from './faceDetector.js';
import type { FaceEmbedder } from './embedder.js';
import { SceneCutDetector } from './sceneCut.js';
import { EmbeddingPolicy } from './embedPolicy.js';
import { gridFor, KEEP_FULL_INPUT_PX, LARGE_TILE_FACE_INPUT_PX, mergeKeepingOrigin, tileImages, tilesToFrame } from './tiles.js';
import { TileSchedule } from './tileSchedule.js';
import { DetectionCarry, onSchedule, type Detection } from './carry.js';
import { FramePace } from './pace.js';

/** What {@link detectFaces} needs. */
export interface DetectFacesDeps {
  detector: FaceDetector;
  logger: Logger;
  metrics?: PipelineMetrics;
  config: DetectorConfig;
  /** Seconds from a monotonic clock; `performance.now()` by default (only for `detectSeconds`). */
  now?: () => number;
  /**
   * Appearance embeddings for re-identification (`config.embeddings`): which faces get one is
   * the {@link EmbeddingPolicy}'s choice (`embedEveryMs`, `embedMaxEveryMs`, `embedMinFacePx`).
   */
  embedder?: FaceEmbedder;
  /** Whether a frame comes from a live camera: its tile sweeps use `tilesSweepFramesLive`. Absent: none does. */
  isLive?: (frame: Frame) => boolean;
}

/** A frame whose detection is done: its message once its crops and embeddings are (undefined: it failed and was dropped). */
export interface StartedFrame<F> {
  done: Promise<FacesMessage | F | undefined>;
}

/**
 * The detector stage in two parts a frame, for callers that keep a camera's frames in order
 * themselves. `start(frame)` resolves once the frame's detection is done; its `done` once its
 * crops and embeddings are. The frames of a camera must be started in order, each after the last
 * one's start resolved: the second part of frame n (its faces cut; the embedder) then runs while
 * frame n+1 is being detected (its letterbox resized by sharp on libuv's threads, then BlazeFace's
 * session call on the main thread). The second
 * parts of a camera's frames run one after another, in order, and a frame's detection waits for
 * the second part of the frame two before it, so that at most one frame is being finished beside
 * a detection. For each frame: decode, detect (the full frame, then the tiles the {@link TileSchedule} plans,
 * merged; `tiles`), drop faces by score/size/duplicate/maxFaces, crop each kept
 * face to 48x48 equalised gray. On the frames where the {@link DetectionCarry} allows it
 * (`detectEveryMs`, `carryMinScore`, `carryMaxMotion`), the last detection's kept faces are
 * cropped from the new frame instead of detecting (no tile pass either: its schedule advances on
 * detected frames only), or keep their last crops while those are younger than `cropReuseMs`.
 * One message per frame, `faces: []` when none was kept, so time keeps moving downstream. A frame that cannot be decoded or whose detection throws is
 * logged, counted as `framesDropped{reason="detect_error"}` and skipped, or replaced by what
 * `failed` makes of it (the Kafka service: a dead letter); the stream goes on.
 *
 * Metrics: `facesDetected` counts the faces emitted (cropped), `facesSkipped{reason}` the
 * detections dropped (low_score, too_small, duplicate, max_faces), `detectSeconds{detector,camera}` the
 * detector's time per frame, tile pass included (decode and crops excluded; on a carried frame, the
 * time of the carry check), `detectorFrames{camera,mode,reason}` each frame as `detected` (why:
 * every_frame, first, cut, due, score, motion, size, tile) or `carried` (tracked).
 */
export function detectionStages<F = never>(deps: DetectFacesDeps & { failed?: (frame: Frame, error: Error) => F }): (frame: Frame) => Promise<StartedFrame<F>> {
  const { detector, logger, metrics, config } = deps;
  const now = deps.now ?? (() => performance.now() / 1000);
  const cropOpts = { marginFraction: config.marginFraction, align: config.align, maxAlignDeg: config.maxAlignDeg, cropOffsetY: config.cropOffsetY };
  const filterOpts = { minScore: config.minScore, minFaceSizePx: config.minFaceSizePx, maxFaces: config.maxFaces };

  // Hard cuts (the frame's `sceneCut` flag), per camera over its frames in order.
  const cuts = config.sceneCuts ? new SceneCutDetector({ minChange: config.sceneCutMinChange, ratio: config.sceneCutRatio }) : undefined;
  const embedder = config.embeddings ? deps.embedder : undefined;
  const policy = embedder ? new EmbeddingPolicy({ everyMs: config.embedEveryMs, maxEveryMs: config.embedMaxEveryMs, minFacePx: config.embedMinFacePx }) : undefined;
  // The tile pass: `auto` is BlazeFace's (its 256 px input); Haar searches its own pyramid.
  const tiles = config.tiles === 'off' || (config.tiles === 'auto' && config.detector !== 'blazeface') ? undefined : new TileSchedule(config.tilesEveryFrames, config.tilesSweepFrames);
  const carry = new DetectionCarry({ everyMs: config.detectEveryMs, minScore: config.carryMinScore, maxMotion: config.carryMaxMotion });
  // A live camera's tile share apart from its detections only while its frames come at its pace (pace.ts).
  const pace = new FramePace();

  /** How the faces of tiles merge with the full-frame pass's (or with the faces carried) on a frame of this size. */
  const mergeOptions = (width: number, height: number) => ({
    matchThreshold: 0.5, tileMinScore: config.tilesMinScore, keepFullFromPx: (KEEP_FULL_INPUT_PX * Math.max(width, height)) / 256,
    largeFromPx: (LARGE_TILE_FACE_INPUT_PX * Math.max(width, height)) / 256, largeMinScore: config.tilesLargeMinScore,
  });

  const detect = async (cameraId: string, rgb: Uint8Array, width: number, height: number, sceneCut: boolean, rolling: boolean, live: boolean, apart: boolean) => {
    const plan = tiles?.plan(cameraId, width, height, gridFor(config.tiles, width, height), sceneCut, rolling,
      live ? config.tilesSweepFramesLive : config.tilesSweepFrames, apart);
    if (!plan?.tiles.length) return detector.detect(rgb, width, height);
    // The frame and its tiles in one batch where the detector batches (BlazeFace).
    const [full, ...inTiles] = await detectEach(detector, [{ rgb, width, height }, ...tileImages(rgb, width, plan.tiles)]);
    const merge = mergeOptions(width, height);
    const { keepFullFromPx } = merge;
    const kept = mergeKeepingOrigin(full, tilesToFrame(inTiles, plan.tiles, width, height, plan.indices), merge);
    // A face the full-frame pass placed well (its own box kept) and scored above tilesReleaseScore holds no tile.
    const holds = (f: (typeof kept)[number]) => f.tile !== undefined || f.box.height < keepFullFromPx || f.score <= config.tilesReleaseScore;
    tiles!.record(cameraId, plan.indices, kept.filter(holds).map((f) => f.box));
    return kept.map(({ atInnerEdge: _edge, tile: _tile, ...f }) => f);
  };

  /** A frame's first part: decode, cut, the carry's decision, the detection; the faces to crop. */
  const detectPart = async (frame: Frame) => {
    const { pixels: _pixels, ...ref } = frame;
    const image = await frameToRgb(frame);
    const sceneCut = cuts?.isCut(frame.cameraId, image.data, image.width, image.height) ?? false;
    const t0 = now();
    const live = deps.isLive?.(frame) ?? false;
    const apart = live && config.tilesApartLive && pace.frame(frame.cameraId, frame.mediaTimeMs);
    const { faces: kept, carried } = await keptFaces(frame.cameraId, frame.mediaTimeMs, image, sceneCut, live, apart);
    metrics?.detectSeconds.observe({ detector: detector.name, camera: frame.cameraId }, now() - t0);
    return { ref: (sceneCut ? { ...ref, sceneCut } : ref) satisfies FrameRef, image, sceneCut, kept, carried, detection: carry.current(frame.cameraId) };
  };

  /** Its second part: the crops (or the carried ones) and the embeddings; then the frame's message. */
  const finishPart = async (d: Awaited<ReturnType<typeof detectPart>>): Promise<FacesMessage> => {
    const { cameraId, mediaTimeMs } = d.ref;
    const faces = (d.carried ? carry.crops(cameraId, mediaTimeMs, config.cropReuseMs, d.detection) : undefined)
      ?? await cropAll(cameraId, mediaTimeMs, d.image, d.kept, d.detection);
    if (faces.length > 0) metrics?.facesDetected.inc({ camera: cameraId }, faces.length);
    if (policy) await embedFaces(cameraId, mediaTimeMs, d.image, faces, d.sceneCut);
    return { frame: d.ref, faces };
  };

  /** The faces to crop: the last detection's, carried, or a fresh detection's, filtered (and remembered). */
  const keptFaces = async (cameraId: string, mediaTimeMs: number, image: RgbImage, sceneCut: boolean, live: boolean, apart: boolean): Promise<{ faces: FaceBox[]; carried: boolean }> => {
    const decision = carry.reuse(cameraId, image.data, image.width, image.height, sceneCut, mediaTimeMs);
    metrics?.detectorFrames.inc({ camera: cameraId, mode: decision.carried ? 'carried' : 'detected', reason: decision.reason });
    if (decision.carried) {
      if (apart && tiles?.shareDue(cameraId)) await searchShare(cameraId, image, decision.faces);
      return { faces: decision.faces, carried: true };
    }
    // The rolling share of tiles on scheduled detections only (tilesRolling), not on the carry's extra ones.
    const rolling = config.tilesRolling === 'every' || onSchedule(decision.reason);
    const { kept, skipped } = filterFaces(await detect(cameraId, image.data, image.width, image.height, sceneCut, rolling, live, apart), filterOpts);
    for (const s of skipped) metrics?.facesSkipped.inc({ camera: cameraId, reason: s.reason });
    carry.record(cameraId, image.data, image.width, image.height, kept, mediaTimeMs, skipped.some((s) => s.reason === 'low_score'));
    return { faces: kept, carried: false };
  };

  /**
   * A live camera's tile share that its last detection left for the frame after it
   * (`tilesApartLive`), searched alone on this carried frame: a face found there that the carried
   * faces lack holds its tile and makes the next frame a detection (reason `tile`), which finds it
   * with the full-frame pass's rules; the carried faces stay this frame's.
   */
  const searchShare = async (cameraId: string, image: RgbImage, carried: readonly FaceBox[]) => {
    const plan = tiles!.planShare(cameraId);
    if (plan.tiles.length === 0) return;
    const found = await detectEach(detector, tileImages(image.data, image.width, plan.tiles));
    const merged = mergeKeepingOrigin(carried, tilesToFrame(found, plan.tiles, image.width, image.height, plan.indices), mergeOptions(image.width, image.height));
    const fresh = filterFaces(merged, filterOpts).kept.filter((f) => (f as (typeof merged)[number]).tile !== undefined);
    tiles!.record(cameraId, plan.indices, fresh.map((f) => f.box));
    if (fresh.length > 0) carry.expire(cameraId);
  };

  /** Each face cut from the frame, side by side (sharp works on its own threads, so six faces wait about as long as one); kept for the carry. */
  const cropAll = async (cameraId: string, mediaTimeMs: number, image: RgbImage, kept: FaceBox[], detection: Detection | undefined): Promise<FaceCrop[]> => {
    const faces = await Promise.all(kept.map((face) => cropFace(image.data, image.width, image.height, face, cropOpts)));
    carry.keepCrops(cameraId, mediaTimeMs, faces, detection);
    return faces;
  };

  const embedFaces = async (cameraId: string, mediaTimeMs: number, image: RgbImage, faces: FaceCrop[], sceneCut: boolean) => {
    const wanted = policy!.select(cameraId, faces, sceneCut, mediaTimeMs, image);
    if (wanted.length === 0) return;
    const vectors = await embedder!.embed(image.data, image.width, image.height, wanted.map((f) => f.box));
    wanted.forEach((f, i) => { f.embedding = packEmbedding(vectors[i]); });
  };

  /** What a failed frame becomes: logged and counted, then dropped (undefined) or what `failed` makes of it. */
  const failure = (frame: Frame, err: unknown): F | undefined => {
    metrics?.framesDropped.inc({ camera: frame.cameraId, reason: 'detect_error' });
    logger.warn('frame skipped: face detection failed', {
      cameraId: frame.cameraId, seq: frame.seq, mediaTimeMs: frame.mediaTimeMs,
      detector: detector.name, error: err instanceof Error ? err.message : String(err),
    });
    return deps.failed ? deps.failed(frame, err instanceof Error ? err : new Error(String(err))) : undefined;
  };

  // Per camera, the second parts of its frames, one after another: the last one's and the one before it.
  const finishing = new Map<string, { last: Promise<unknown>; before: Promise<unknown> }>();
  return async (frame: Frame): Promise<StartedFrame<F>> => {
    const lane = finishing.get(frame.cameraId) ?? { last: Promise.resolve(), before: Promise.resolve() };
    finishing.set(frame.cameraId, lane);
    // At most one frame's second part runs beside this frame's detection (the one before this frame).
    await lane.before;
    let first: Awaited<ReturnType<typeof detectPart>>;
    try {
      first = await detectPart(frame);
    } catch (err) {
      return { done: Promise.resolve(failure(frame, err)) };
    }
    const done = lane.last.then(() => finishPart(first)).catch((err: unknown) => failure(frame, err));
    lane.before = lane.last;
    lane.last = done;
    return { done };
  };
}

/**
 * The detector stage as an RxJS operator: {@link detectionStages}, one frame after another
 * (each frame's message comes before the next frame starts).
 */
export function detectFaces<F = never>(deps: DetectFacesDeps & { failed?: (frame: Frame, error: Error) => F }): OperatorFunction<Frame, FacesMessage | F> {
  return oneFrameAtATime(detectionStages(deps));
}

/** {@link detectionStages}' `start` as an RxJS operator: each frame's message before the next frame starts. */
export function oneFrameAtATime<F>(start: (frame: Frame) => Promise<StartedFrame<F>>): OperatorFunction<Frame, FacesMessage | F> {
  return concatMap((frame: Frame) => defer(() => start(frame)).pipe(startedMessages()));
}

/**
 * Started frames' messages, in the order the frames were started, each once its second part is
 * done; a frame that failed and was dropped gives none (`onDropped` is told).
 */
export function startedMessages<F>(onDropped?: () => void): OperatorFunction<StartedFrame<F>, FacesMessage | F> {
  return concatMap((s) => from(s.done).pipe(concatMap((m) => {
    if (m !== undefined) return of(m);
    onDropped?.();
    return EMPTY;
  })));
}
