/** Builds the configured face detector (`blazeface` or `haar`). */
import type { TfRuntime } from '@emostream/runtime';
import { createBlazeFaceDetector } from './blazeface.js';
import type { DetectorConfig } from './config.js';
import type { FaceDetector } from './faceDetector.js';
import { createHaarDetector } from './haar.js';

/**
 * Creates and loads the detector `config.detector` names, with the config's tuning. BlazeFace
 * runs on the `tf` given (default `loadTf()`); Haar needs no TensorFlow.js.
 */
export async function createDetector(config: DetectorConfig, deps: { tf?: TfRuntime } = {}): Promise<FaceDetector> {
  switch (config.detector) {
    case 'blazeface':
      return createBlazeFaceDetector({
        candidateScore: config.candidateScore,
        iouThreshold: config.iouThreshold,
        // NMS keeps a few more candidates than faces are cropped, so that duplicates and
        // small faces dropped later do not push real faces out.
        maxCandidates: Math.max(20, 2 * config.maxFaces),
        tf: deps.tf,
      });
    case 'haar':
      return createHaarDetector({
        cascadePath: config.haarCascadePath,
        maxSidePx: config.detectMaxSidePx,
        scaleFactor: config.haarScaleFactor,
        minNeighbors: config.haarMinNeighbors,
        minSizePx: config.haarMinSizePx,
      });
    default: {
      const never: never = config.detector;
      throw new Error(`unknown detector ${String(never)}`);
    }
  }
}
