/**
 * Runs every bench suite (src/suites/*.ts, compiled to dist/suites/*.js), each in its
 * own process (and each suite runs every row in a fresh process of its own).
 * Usage: node tooling/bench/dist/run.js [name-filter]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const filter = process.argv[2];
const suites = readdirSync(dir).filter((f) => f.endsWith('.js') && (!filter || f.includes(filter)));
console.log(`# Rioco benchmarks — node ${process.version}, ${new Date().toISOString()}`);
let failed = 0;
for (const s of suites) {
  const r = spawnSync(process.execPath, [join(dir, s)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`suite ${s} failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
