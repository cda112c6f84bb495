/** Writes generated deployment files under the repository root, or checks that they are up to date. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the files (or checks them); returns the process exit code. */
export function writeGenerated(files: Map<string, string>, check: boolean): number {
  let stale = 0;
  for (const [rel, text] of files) {
    const file = path.join(ROOT, rel);
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (old === text) continue;
    if (check) {
      stale++;
      process.stderr.write(`${rel} is stale: run node --import tsx deploy/generate.ts\n`);
    } else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      process.stderr.write(`wrote ${rel}\n`);
    }
  }
  return stale ? 1 : 0;
}
