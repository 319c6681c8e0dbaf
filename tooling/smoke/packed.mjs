#!/usr/bin/env node
// The packages as users get them: packs @rioco/core, sync, timers and net with pnpm (which
// rewrites workspace: ranges to versions), stages the platform package with the built
// native library as the release pipeline does, installs the tarballs with npm into an
// empty project outside the monorepo (koffi comes from the registry), type-checks a
// consumer program against the packed .d.ts files and runs it (consumer/smoke.ts); then
// runs it again without the platform package, on the library compiled from the sources
// @rioco/core ships (what a user on another platform does).
//
// Catches what the monorepo's own tests cannot see: a file missing from `files`, an
// export that resolves only through the `@rioco/source` condition, a .d.ts that does not
// compile for a user, a dependency declared only in the workspace, a native library the
// installed package cannot find.
//
// Needs a build first (`pnpm build`). Run: node tooling/smoke/packed.mjs [--keep]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const keep = process.argv.includes('--keep');
const packages = ['core', 'sync', 'timers', 'net'];
const pnpm = join(root, 'node_modules', '.bin', 'pnpm');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const lib = join(root, 'packages', 'core', 'native', 'build', 'librioco.so');

/** Every source a .js.map or .d.ts.map of an installed package names must be installed too. */
function checkMaps(dir) {
  const missing = [];
  let maps = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    if (!f.endsWith('.map')) continue;
    maps++;
    const at = dirname(join(dir, f));
    for (const src of JSON.parse(readFileSync(join(dir, f), 'utf8')).sources) {
      if (!existsSync(join(at, src))) missing.push(`${f} -> ${src}`);
    }
  }
  if (maps === 0) missing.push('no source maps at all');
  return missing;
}

// The library must be found the way a user's install finds it, not through an override.
const env = { ...process.env };
delete env.RIOCO_NATIVE_PATH;
delete env.RIOCO_NATIVE_SKIP;

function sh(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

if (!existsSync(lib)) {
  console.error(`packed: ${lib} is missing; run the build first (pnpm build)`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'rioco-packed-'));
try {
  const tarballs = join(tmp, 'tarballs');
  for (const p of packages) sh(pnpm, ['pack', '--pack-destination', tarballs], join(root, 'packages', p));

  // The platform package, staged as the release pipeline does: its manifest plus the library.
  const platform = join(tmp, 'platform');
  sh('mkdir', ['-p', platform]);
  for (const f of ['package.json', 'README.md']) copyFileSync(join(root, 'packages', 'core-linux-x64-gnu', f), join(platform, f));
  copyFileSync(lib, join(platform, 'librioco.so'));
  sh(pnpm, ['pack', '--pack-destination', tarballs], platform);

  const consumer = join(tmp, 'consumer');
  sh('mkdir', ['-p', consumer]);
  const deps = {};
  for (const t of readdirSync(tarballs)) {
    const name = t.replace(/-\d+\.\d+\.\d+.*\.tgz$/, '').replace(/^rioco-/, '@rioco/');
    deps[name] = `file:${join(tarballs, t)}`;
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: deps }, null, 2));
  for (const f of ['smoke.ts', 'tsconfig.json', 'tsconfig.bundler.json', 'unavailable.mjs']) copyFileSync(join(root, 'tooling', 'smoke', 'consumer', f), join(consumer, f));

  console.log(`packed: installing ${Object.keys(deps).join(', ')} into ${consumer}`);
  sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], consumer);
  const broken = packages.flatMap((p) => checkMaps(join(consumer, 'node_modules', '@rioco', p)).map((m) => `@rioco/${p}: ${m}`));
  if (broken.length > 0) throw new Error(`source maps name files the packages do not ship:\n  ${broken.slice(0, 10).join('\n  ')}`);
  // Node's types from the monorepo: the consumer installs only what a user of Rioco needs.
  const typeRoots = join(root, 'node_modules', '@types');
  // What a bundler's users resolve (the `types` condition without Node's rules), then Node's.
  sh(process.execPath, [tsc, '-p', join(consumer, 'tsconfig.bundler.json'), '--typeRoots', typeRoots], consumer);
  sh(process.execPath, [tsc, '-p', consumer, '--typeRoots', typeRoots], consumer);
  process.stdout.write(sh(process.execPath, [join(consumer, 'dist', 'smoke.js')], consumer));

  // A platform without a prebuilt package: the library compiles from the sources
  // @rioco/core ships, into the place the loader tries after the platform package.
  // The error says how, and doing exactly what it says works.
  rmSync(join(consumer, 'node_modules', '@rioco', 'core-linux-x64-gnu'), { recursive: true });
  const err = JSON.parse(sh(process.execPath, [join(consumer, 'unavailable.mjs')], consumer));
  const fix = /`node ([^`]+)`/.exec(err.message ?? '');
  if (err.code !== 'NATIVE_UNAVAILABLE' || fix === null) {
    throw new Error(`without the platform package, native: true should fail with NATIVE_UNAVAILABLE naming a build command; got ${JSON.stringify(err)}`);
  }
  process.stdout.write(sh(process.execPath, [fix[1]], consumer));
  process.stdout.write(sh(process.execPath, [join(consumer, 'dist', 'smoke.js')], consumer));
} finally {
  if (keep) console.log(`packed: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
