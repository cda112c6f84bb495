// The benchmark's scene generator and scorer (bench/scene/): their unit tests live beside them in
// bench/scene/scene.test.ts, type-checked by the bench project. test/tsconfig.json's rootDir is
// test/, so a static import of bench/ fails `tsc -b`; the non-literal specifier keeps tsc out and
// registers those tests in this file's run.
const spec = '../bench/scene/scene.test.js';
await import(spec);
