#!/usr/bin/env node
// Builds native/build/librioco.so with the system C compiler ($CC, else cc): no
// node-gyp, no Node headers (the library finds uv_* and napi_* in the process at run
// time). Skips the compile when the output was built from the same sources (by
// content, not mtime: checkouts and copies reset mtimes) with the same command. Writes to a temporary file and renames it, so parallel builds
// (turbo, several packages' installs) never load a half-written library.
//
// Environment: CC (compiler), RIOCO_CFLAGS (extra flags), RIOCO_NATIVE_SKIP=1 (do
// nothing: the runtime then falls back to its ArrayBuffer table).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'build', process.platform === 'darwin' ? 'librioco.dylib' : 'librioco.so');
const stampFile = `${out}.cmd`;

if (process.env.RIOCO_NATIVE_SKIP === '1') {
  console.log('rioco native: skipped (RIOCO_NATIVE_SKIP=1); the fiber table falls back to an ArrayBuffer');
  process.exit(0);
}

const sources = readdirSync(join(root, 'src'))
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => join(root, 'src', f));
const inputs = [
  ...sources,
  ...readdirSync(join(root, 'src')).filter((f) => f.endsWith('.h')).map((f) => join(root, 'src', f)),
  ...readdirSync(join(root, 'include')).map((f) => join(root, 'include', f)),
  fileURLToPath(import.meta.url),
];

const cc = process.env.CC || 'cc';
const flags = [
  '-std=c11',
  '-O2',
  '-g',
  '-fPIC',
  '-shared',
  '-pthread',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
  '-Werror',
  `-I${join(root, 'include')}`,
  ...(process.env.RIOCO_CFLAGS ? process.env.RIOCO_CFLAGS.split(/\s+/).filter(Boolean) : []),
];
const tmp = `${out}.${process.pid}.tmp`;
const args = [...flags, '-o', tmp, ...sources, '-ldl'];
const hash = createHash('sha256').update(JSON.stringify([cc, flags, process.platform, process.arch]));
for (const f of inputs) hash.update(f).update(readFileSync(f));
const stamp = hash.digest('hex');

function upToDate() {
  return existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
}

if (upToDate()) {
  console.log(`rioco native: up to date (${out})`);
  process.exit(0);
}

mkdirSync(dirname(out), { recursive: true });
try {
  execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'pipe'] });
} catch (err) {
  rmSync(tmp, { force: true });
  const e = /** @type {{ code?: string; stderr?: Buffer }} */ (err);
  if (e.stderr?.length) process.stderr.write(e.stderr);
  const why = e.code === 'ENOENT' ? `C compiler '${cc}' not found (install gcc or clang, or set CC)` : `'${cc}' failed (errors above)`;
  console.error(`rioco native: build failed: ${why}; set RIOCO_NATIVE_SKIP=1 to build without the native library`);
  process.exit(1);
}
renameSync(tmp, out);
writeFileSync(`${stampFile}.${process.pid}.tmp`, stamp);
renameSync(`${stampFile}.${process.pid}.tmp`, stampFile);
console.log(`rioco native: built ${out}`);
