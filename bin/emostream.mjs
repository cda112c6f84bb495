#!/usr/bin/env node
// The `emostream` command: runs the TypeScript CLI through tsx (no build step needed).
import { register } from 'tsx/esm/api';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
register();
await import('../cli/src/main.ts');
