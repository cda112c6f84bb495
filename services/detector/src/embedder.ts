/**
 * Face embeddings for re-identification: Human's `faceres` model (HSE FaceRes, shipped in
 * @vladmandic/human's `models/` folder, loaded from disk, nothing downloaded). Input: the face
 * box scaled by 1.4 about its centre (Human's framing), resized to 224x224 RGB (0..255); output:
 * a 1024-d descriptor. On the sample media, the cosine similarity of one person's faces across a
 * clip was 0.78–0.91 (faces 60–120 px), of different people 0.2–0.58.
 *
 * On tfjs-node the network runs as one TensorFlow session call (@emostream/runtime's
 * sessionModel), cut down to the descriptor: Human's age and gender heads after it are left out.
 * Op by op, each of its 1x1 convolutions and matrix products was an eager call on the main thread
 * that oneDNN ran with its JIT GEMM, the kernel that signals corrupt (packages/runtime/src/tf.ts).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Box } from '@emostream/contracts';
import { readGraphArtifacts, sessionArtifacts, sessionModel, type TfRuntime } from '@emostream/runtime';
import { humanModelsDir } from './blazeface.js';

/** Computes embeddings of faces of one frame. */
export interface FaceEmbedder {
  /** One descriptor per box (same order), in one model call. */
  embed(rgb: Uint8Array, width: number, height: number, boxes: Box[]): Promise<Float32Array[]>;
  dispose(): void;
}

/** Side of the model's square input. */
const INPUT = 224;
/** Human's face box scale for faceres. */
const BOX_SCALE = 1.4;
/** Size of the descriptor, faceres's `global_pooling/Mean`. */
const DESCRIPTOR = 1024;

/** The name of the graph's 1024-d output in its signature (faceres: `global_pooling/Mean`). */
function descriptorNode(signature: unknown, file: string): string {
  const outputs = (signature as { outputs?: Record<string, { name: string; tensorShape?: { dim?: Array<{ size?: string }> } }> } | undefined)?.outputs ?? {};
  const found = Object.values(outputs).find((o) => Number(o.tensorShape?.dim?.[1]?.size) === DESCRIPTOR);
  if (!found) throw new Error(`${file}: no ${DESCRIPTOR}-d output in its signature (is it the HSE FaceRes model from @vladmandic/human?)`);
  return found.name.split(':')[0];
}

/** Loads the faceres model from Human's models folder (or `modelsDir`). */
export async function createFaceEmbedder(rt: TfRuntime, modelsDir = humanModelsDir()): Promise<FaceEmbedder> {
  const { tf } = rt;
  const file = path.join(modelsDir, 'faceres.json');
  const raw = readGraphArtifacts(file);
  const artifacts = sessionArtifacts(raw, [descriptorNode(raw.signature, file)]);
  const session = await sessionModel(tf, artifacts);
  // Other backends: the graph model, op by op (tfjs widens its float16 weights itself).
  const model = session ? undefined : await tf.loadGraphModel(pathToFileURL(file).href);
  return {
    async embed(rgb, width, height, boxes) {
      if (boxes.length === 0) return [];
      const out = tf.tidy(() => {
        const image = tf.tensor4d(rgb, [1, height, width, 3], 'int32').toFloat();
        const regions = boxes.map((b) => {
          const cx = b.x + b.width / 2, cy = b.y + b.height / 2, r = (Math.max(b.width, b.height) * BOX_SCALE) / 2;
          return [(cy - r) / height, (cx - r) / width, (cy + r) / height, (cx + r) / width];
        });
        const crops = tf.image.cropAndResize(image as never, regions, boxes.map(() => 0), [INPUT, INPUT]);
        const outputs = (session ? session.execute(crops as never) : model!.execute(crops)) as import('@tensorflow/tfjs-node').Tensor[];
        const descriptor = outputs.find((t) => t.shape[1] === DESCRIPTOR);
        if (!descriptor) throw new Error(`faceres: no ${DESCRIPTOR}-d output (is ${file} the HSE FaceRes model?)`);
        return descriptor.clone();
      });
      const flat = (await out.data()) as Float32Array;
      out.dispose();
      const dims = flat.length / boxes.length;
      return boxes.map((_, i) => flat.slice(i * dims, (i + 1) * dims));
    },
    dispose: () => (session ? session.dispose() : model!.dispose()),
  };
}
