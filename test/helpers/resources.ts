/**
 * What a test needs from outside the repository (the shared sample media, GStreamer, a Kafka
 * broker, Prometheus, kustomize, Chromium...), checked in one place. Without CI a missing
 * resource skips the test with its reason (the run's last lines list every skip, see
 * scripts/skip-reporter.mjs); under CI (`CI=true`) it fails the test, naming the resource and
 * how to install it: a CI run must never pass by skipping what it was meant to test.
 *
 *   test('…', async (t) => {
 *     if (!requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable())) return;
 *     …
 *   });
 */
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/** How the test tools are installed (GStreamer, Chromium, Prometheus, Java and Kafka's jars, kustomize). */
export const INSTALL_TEST_TOOLS = 'bash scripts/install.sh --test';

/** True when the environment says this is a CI run (`CI=true`, as GitHub Actions and most CI systems set it). */
export function underCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(true|1|yes)$/i.test(env.CI ?? '');
}

/**
 * Checks one resource: `availableOrReason` is `true` or `undefined` when it is here, else a
 * sentence saying what is missing (the `…Unavailable()` helpers return exactly that). Returns
 * true when the test can go on; when it is missing: under CI throws (the test fails), else calls
 * `t.skip(reason)` and returns false (the test must then return). `optional`: a resource the
 * install script may legitimately not get (hadolint): skipped even under CI, still listed.
 */
export function requireResource(t: TestContext, name: string, availableOrReason: string | true | undefined, opts: { optional?: boolean } = {}): boolean {
  if (availableOrReason === undefined || availableOrReason === true) return true;
  const reason = `${name}: ${availableOrReason}`;
  if (underCI() && !opts.optional) {
    throw new Error(`missing test resource under CI (CI=true fails instead of skipping): ${reason}. Install the test tools with \`${INSTALL_TEST_TOOLS}\`; the sample media and data sets are read from ../shared/data beside the checkout`);
  }
  t.skip(reason);
  return false;
}

/** Why some sample files are not there (undefined when all are). */
export function filesMissing(...files: string[]): string | undefined {
  const absent = files.filter((f) => !existsSync(f));
  return absent.length ? `not found: ${absent.join(', ')} (the shared sample data, read in place from ../shared/data)` : undefined;
}
