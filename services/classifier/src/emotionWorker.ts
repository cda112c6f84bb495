/**
 * The body of the emotion model's worker thread (./workerModel.ts): loads TensorFlow.js (the
 * main thread's backend) and the model directory with the main thread's own code, then answers
 * each request, crops packed in one transferred buffer, with the probabilities, transferred back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTf, type BackendChoice } from '@emostream/runtime';
import { INPUT_PIXELS } from '@emostream/model';
import { loadEmotionModel, type EmotionModel } from './emotionModel.js';
import type { ToWorker, FromWorker, WorkerStart } from './workerModel.js';

const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const start = workerData as WorkerStart;

let model: EmotionModel;
try {
  const rt = await loadTf(start.backend as BackendChoice, { sessions: true });
  model = await loadEmotionModel(rt.tf, { model: start.dir, flipTta: start.flipTta, head: start.head });
  post({ type: 'ready', version: model.version, dir: model.dir ?? start.dir, provider: rt.provider, mirrors: model.mirrors ?? false });
} catch (e) {
  post({ type: 'failed', message: (e as Error).message });
  process.exit(1);
}

port.on('message', (m: ToWorker) => {
  const crops = Array.from({ length: m.n }, (_, k) => m.crops.subarray(k * INPUT_PIXELS, (k + 1) * INPUT_PIXELS));
  model.predict(crops, m.single).then(
    // A copy of 28 bytes a face: what tfjs returns may share its buffer, which cannot be moved.
    (p) => { const probs = p.slice(); post({ type: 'result', id: m.id, probs }, [probs.buffer as ArrayBuffer]); },
    (e: Error) => post({ type: 'error', id: m.id, message: e.message }),
  );
});
