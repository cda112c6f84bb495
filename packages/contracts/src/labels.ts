/** The emotion vocabulary shared by every stage, the model and the training job. */

/** The seven emotions, in the order of the classifier's softmax output. */
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'] as const;

/** One of the seven emotions. */
export type Emotion = (typeof EMOTIONS)[number];

/**
 * What a person's emotion over time can be: one of the seven, or `uncertain` when no emotion is
 * clear (the frames of the person's current emotion give it too little probability, see the
 * aggregator's `uncertainBelow` setting). Events and timelines carry these; the classifier's per-face
 * probabilities are always the seven.
 */
export const EMOTION_STATES = [...EMOTIONS, 'uncertain'] as const;

/** One of {@link EMOTION_STATES}. */
export type EmotionState = (typeof EMOTION_STATES)[number];

/** A probability per emotion; the values sum to 1. */
export type EmotionProbabilities = Record<Emotion, number>;

/** Common names of the seven emotions in public data sets (FER+, CK+, AffectNet, RAF-DB...). */
const SYNONYMS: Record<string, Emotion> = {
  angry: 'angry', anger: 'angry', mad: 'angry',
  disgust: 'disgust', disgusted: 'disgust', disgusting: 'disgust',
  fear: 'fear', fearful: 'fear', afraid: 'fear', scared: 'fear',
  happy: 'happy', happiness: 'happy', joy: 'happy', smile: 'happy',
  neutral: 'neutral', calm: 'neutral',
  sad: 'sad', sadness: 'sad', sorrow: 'sad',
  surprise: 'surprise', surprised: 'surprise', suprise: 'surprise',
};

/**
 * Maps a label name from a data set to one of the seven emotions, or `undefined` when it is
 * none of them nor a common synonym (CK+'s `contempt`, FER+'s `unknown`).
 */
export function normaliseLabel(name: string, extra: Record<string, string> = {}): Emotion | undefined {
  const key = name.trim().toLowerCase();
  const mapped = extra[key] ?? extra[name];
  if (mapped !== undefined) return normaliseLabel(mapped);
  return SYNONYMS[key];
}

/** Turns a softmax vector (length 7, in EMOTIONS order) into a labelled record. */
export function toProbabilities(values: ArrayLike<number>): EmotionProbabilities {
  if (values.length !== EMOTIONS.length) {
    throw new Error(`expected ${EMOTIONS.length} probabilities, got ${values.length}`);
  }
  const out = {} as EmotionProbabilities;
  EMOTIONS.forEach((e, i) => { out[e] = values[i]; });
  return out;
}

/** The most probable emotion and its probability. */
export function argmaxEmotion(p: EmotionProbabilities): { emotion: Emotion; confidence: number } {
  let best: Emotion = EMOTIONS[0];
  for (const e of EMOTIONS) if (p[e] > p[best]) best = e;
  return { emotion: best, confidence: p[best] };
}
