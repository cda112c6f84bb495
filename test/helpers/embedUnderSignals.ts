/**
 * The child of test/runtime.signals.test.ts: loads TensorFlow the way the detector service does
 * (`loadTf` with every network a session call: oneDNN at AVX2), then runs Human's faceres embedder
 * (the network whose matrix products oneDNN's JIT GEMM kernels ran when it ran op by op)
 * `calls` times on a changing 640x360 frame, with a SIGUSR2 handler installed so that every signal
 * the test sends interrupts it. Prints `ready`, then `done <calls> <signals handled>`.
 */
import { loadTf } from '@emostream/runtime';
import { createFaceEmbedder } from '@emostream/detector';

const calls = Number(process.argv[2] ?? 150);
let handled = 0;
process.on('SIGUSR2', () => { handled++; });
const rt = await loadTf('auto', { sessions: true });
const embedder = await createFaceEmbedder(rt);
const W = 640, H = 360;
const rgb = new Uint8Array(W * H * 3);
let s = 1;
process.stdout.write('ready\n');
for (let i = 0; i < calls; i++) {
  for (let p = 0; p < rgb.length; p += 97) { s = (s * 1103515245 + 12345) >>> 0; rgb[p] = s >>> 24; }
  const n = 1 + (i % 4);
  const boxes = Array.from({ length: n }, (_, j) => ({ x: 40 + j * 120, y: 60 + (i % 7) * 5, width: 60 + (i % 30), height: 70 + (i % 30) }));
  const out = await embedder.embed(rgb, W, H, boxes);
  if (out.length !== n || out[0].length !== 1024) throw new Error(`embedder returned ${out.length} descriptors for ${n} faces`);
  // Let the event loop turn, as between a service's frames, so that the handler runs.
  await new Promise((r) => setImmediate(r));
}
embedder.dispose();
process.stdout.write(`done ${calls} ${handled}\n`);
// Signals may still come while the process exits: keep the handler, leave at once.
process.exit(0);
