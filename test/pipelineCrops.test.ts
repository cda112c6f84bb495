// The pipeline's crops of FER-2013 Training faces (bench/accuracy/cropset.ts): its tests live
// beside it in bench/accuracy/cropset.test.ts, type-checked by the bench project; the
// non-literal specifier keeps tsc (rootDir test/) out and registers them in this run.
const spec = '../bench/accuracy/cropset.test.js';
await import(spec);
