// The through-the-pipeline accuracy measurement's pure parts (bench/accuracy/: placement, IoU
// matching, scoring, the renderer's pixel work): their unit tests live beside them in
// bench/accuracy/accuracy.test.ts, type-checked by the bench project. As in test/scene.test.ts,
// the non-literal specifier keeps tsc (rootDir test/) out and registers those tests in this run.
const spec = '../bench/accuracy/accuracy.test.js';
await import(spec);
