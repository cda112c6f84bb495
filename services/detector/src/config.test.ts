import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_CONFIG, detectorConfigFromEnv, parseDetectorConfig } from './config.js';

test('defaults: blazeface, minScore 0.5, faces of 20 px and up, 20 per frame, small FER-like margin', () => {
  const c = parseDetectorConfig({});
  assert.equal(c.detector, 'blazeface');
  assert.equal(c.minScore, 0.5);
  assert.equal(c.minFaceSizePx, 20);
  assert.equal(c.maxFaces, 20);
  assert.equal(c.marginFraction, 0.1);
  assert.deepEqual(c, DEFAULT_DETECTOR_CONFIG);
});

test('cropOffsetY: -0.1 by default (crop moved up a tenth of the box, towards FER-2013\'s framing), -0.5..0.5', () => {
  assert.equal(parseDetectorConfig({}).cropOffsetY, -0.1);
  assert.equal(parseDetectorConfig({ cropOffsetY: -0.1 }).cropOffsetY, -0.1);
  assert.throws(() => parseDetectorConfig({ cropOffsetY: 0.6 }), /cropOffsetY:/);
  assert.equal(detectorConfigFromEnv({ DETECTOR_CROP_OFFSET_Y: '-0.05' }).cropOffsetY, -0.05);
});

test('tiles: auto by default, every 10th frame a sweep, tile faces from 0.6; a grid COLSxROWS; anything else fails', () => {
  const c = parseDetectorConfig({});
  assert.equal(c.tiles, 'auto');
  assert.equal(c.tilesEveryFrames, 30);
  assert.equal(c.tilesMinScore, 0.65);
  assert.equal(parseDetectorConfig({ tiles: '3x2' }).tiles, '3x2');
  assert.equal(parseDetectorConfig({ tiles: 'off' }).tiles, 'off');
  assert.throws(() => parseDetectorConfig({ tiles: '0x2' }), /tiles:.*COLSxROWS/);
  assert.throws(() => parseDetectorConfig({ tiles: 'on' }), /tiles:/);
  assert.throws(() => parseDetectorConfig({ tilesEveryFrames: 0 }), /tilesEveryFrames:/);
  assert.throws(() => parseDetectorConfig({ tilesMinScore: 1.2 }), /tilesMinScore:/);
  assert.equal(detectorConfigFromEnv({ DETECTOR_TILES: '4x3', DETECTOR_TILES_EVERY_FRAMES: '2' }).tiles, '4x3');
  assert.equal(detectorConfigFromEnv({ DETECTOR_TILES_EVERY_FRAMES: '2' }).tilesEveryFrames, 2);
});

test('unknown keys fail, naming the key', () => {
  assert.throws(() => parseDetectorConfig({ minScor: 0.4 }), /minScor/);
});

test('bad values fail with the field and the reason', () => {
  assert.throws(() => parseDetectorConfig({ detector: 'yolo' }), /detector:/);
  assert.throws(() => parseDetectorConfig({ minScore: 1.5 }), /minScore:/);
  assert.throws(() => parseDetectorConfig({ minFaceSizePx: 0 }), /minFaceSizePx:/);
  assert.throws(() => parseDetectorConfig({ maxFaces: 2.5 }), /maxFaces:/);
  assert.throws(() => parseDetectorConfig({ haarScaleFactor: 1 }), /haarScaleFactor:/);
});

test('a candidateScore above minScore is a bad combination that says what to change', () => {
  assert.throws(() => parseDetectorConfig({ minScore: 0.3, candidateScore: 0.4 }), /candidateScore \(0\.4\) must be <= minScore \(0\.3\)/);
});

test('detectorConfigFromEnv reads DETECTOR_* names, numbers and booleans; unknown names fail', () => {
  const c = detectorConfigFromEnv({ DETECTOR_DETECTOR: 'haar', DETECTOR_MIN_FACE_SIZE_PX: '48', DETECTOR_ALIGN: 'false', OTHER: 'x' });
  assert.equal(c.detector, 'haar');
  assert.equal(c.minFaceSizePx, 48);
  assert.equal(c.align, false);
  assert.throws(() => detectorConfigFromEnv({ DETECTOR_BOGUS: '1' }), /DETECTOR_BOGUS is not a setting; valid DETECTOR_\* names: DETECTOR_DETECTOR, DETECTOR_MIN_SCORE, /);
  // No guessing from the text: a boolean is true/false/1/0, a number is a number.
  assert.throws(() => detectorConfigFromEnv({ DETECTOR_ALIGN: 'yes' }), { message: 'invalid detector settings: DETECTOR_ALIGN=yes: must be true, false, 1 or 0' });
  assert.throws(() => detectorConfigFromEnv({ DETECTOR_MIN_SCORE: '1.5' }), { message: 'invalid detector settings: DETECTOR_MIN_SCORE=1.5: Too big: expected number to be <=1 (a number from 0 to 1)' });
  assert.throws(() => detectorConfigFromEnv({ DETECTOR_DETECTOR: 'yolo' }), /DETECTOR_DETECTOR=yolo: .*\(one of blazeface, haar\)/);
});
