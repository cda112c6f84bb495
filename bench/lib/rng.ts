/** The bench's seeded generator: the project's mulberry32 (@emostream/runtime), so scenes from a seed are identical on every machine. */
export { mulberry32 } from '@emostream/runtime';
