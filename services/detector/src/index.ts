/** The detector service: finds faces in frames and crops them for the classifier. */
export { detectFaces, detectionStages, oneFrameAtATime, startedMessages, type DetectFacesDeps, type StartedFrame } from './detectFaces.js';
export { createDetector } from './createDetector.js';
export { detectEach, type DetectorImage, type FaceDetector } from './faceDetector.js';
export { createBlazeFaceDetector, humanConfig, humanModelsDir, letterbox, fromLetterbox, type BlazeFaceOptions, type Letterbox } from './blazeface.js';
export { createHaarDetector, loadOpenCv, type HaarOptions } from './haar.js';
export {
  DETECTORS, DEFAULT_HAAR_CASCADE, DetectorConfigSchema, DEFAULT_DETECTOR_CONFIG,
  DETECTOR_PREFIX, parseDetectorConfig, detectorConfigFromEnv,
  type DetectorName, type DetectorConfig, type DetectorConfigInput,
} from './config.js';
export {
  filterFaces, squareRegion, eyeAngleRad, alignmentAngleRad, sampleRotatedSquare, alignedGray, ALIGN_MAX_SIDE, cropFace,
  type SkipReason, type FilterOptions, type FilterResult, type SquareRegion, type CropOptions,
} from './crop.js';
export { frameToRgb, type RgbImage } from './decode.js';
export { createFaceEmbedder, type FaceEmbedder } from './embedder.js';
export { EmbeddingPolicy, type EmbeddingPolicyOptions } from './embedPolicy.js';
export { SceneCutDetector, frameGrid, gridChange, type SceneCutOptions } from './sceneCut.js';
