import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

function run(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--no-deprecation', '--import', 'tsx', '--conditions=@rioco/source', join(here, '..', 'src', file)],
      { cwd: root, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('README', () => {
  it('the twenty-line example in the README is the one that is typechecked and run here', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Twenty lines\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const file = readFileSync(join(here, '..', 'src', 'readme-example.ts'), 'utf8');
    expect(block).toBeDefined();
    expect(file.endsWith(block!)).toBe(true);
  });

  it('the example runs: every worker reports its jobs, then the results print', async () => {
    const r = await run('readme-example.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => /^worker \d stops after \d jobs$/.test(l))).toHaveLength(3);
    const counts = lines.filter((l) => /^\d+$/.test(l)).map(Number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('the demo runs to completion and shows cancellation, timeout and supervision', async () => {
    const r = await run('main.ts');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/slow fiber was cancelled; its finally block ran/);
    expect(r.stdout).toMatch(/failed with TIMEOUT/);
    expect(r.stdout).toMatch(/supervised job failed alone: job exploded/);
    expect(r.stdout).toMatch(/jobs per worker: .* \(total 6\)/);
  });
});
