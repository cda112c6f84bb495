// The soak section's pure parts (bench/sections/soak*.ts: its scene, its plan, reading the
// services' /metrics and its samples file, the log issues) and the slope fitting it uses
// (bench/lib/trend.ts): their unit tests live beside them, type-checked by the bench project;
// the non-literal specifiers keep tsc (rootDir test/) out and register them in this run.
const specs = ['../bench/sections/soak.test.js', '../bench/lib/trend.test.js'];
for (const spec of specs) await import(spec);
