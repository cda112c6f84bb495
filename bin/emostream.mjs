#!/usr/bin/env node
// The `emostream` command: runs the TypeScript CLI through tsx (no build step needed).
// A URL with credentials given on the command line (`analyze rtsp://user:pass@…`, `serve ingest
// --source cam=rtsp://…`) leaves this process's /proc/<pid>/cmdline (what `ps` shows every local
// user) as soon as it starts: a URL with a userinfo, query or fragment is shown as `scheme://***`.
// (Better: `analyze -` reads the URL from stdin, `serve ingest` from EMOSTREAM_SOURCES.)
const mask = (arg) => arg.replace(/([a-z][a-z0-9+.-]*:\/\/)(\S*)/gi, (m, scheme, rest) => (/[@?#]/.test(rest) ? `${scheme}***` : m));
if (process.argv.slice(2).some((a) => mask(a) !== a)) process.title = ['emostream', ...process.argv.slice(2).map(mask)].join(' ');
process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
// Imported after the rewrite above, which must come first.
const { register } = await import('tsx/esm/api');
register();
await import('../cli/src/main.ts');
