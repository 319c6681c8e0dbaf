import { describe, it, expect } from 'vitest';
import { runFixture, startFixture, waitForOutput } from './fixtures/run-fixture.js';

describe('process-level behaviour', () => {
  it('a fiber waiting on a lost callback is reported as a deadlock when the event loop runs dry', async () => {
    const r = await runFixture('lost-callback.ts');
    expect(r.stdout).toMatch(/rejected DEADLOCK: .*event loop is empty/);
  });

  it('main(): SIGINT cancels the root, cleanup runs children first, exit code 130', async () => {
    const child = startFixture('main-signal.ts');
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitForOutput(child.stdout!, 'ready');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(out.trim().split('\n')).toEqual(['ready', 'worker cleanup done', 'main cleanup done']);
  });

  it('main(): an error is printed and the exit code is 1', async () => {
    const r = await runFixture('main-error.ts');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fatal: config missing/);
  });
});
