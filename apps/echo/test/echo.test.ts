import { describe, it, expect } from 'vitest';
import { startApp } from '@rioco/tooling/cli';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const mainPath = join(here, '..', 'src', 'main.ts');

/**
 * Run the app with `args` and `env` (PORT and HOST unset unless given) until it exits.
 * Should it start listening after all, it is stopped (SIGINT: exit code 130), so a test
 * expecting a usage error fails on the exit code instead of hanging.
 */
function runApp(args: string[], env: { PORT?: string; HOST?: string }): Promise<{ code: number | null; stderr: string }> {
  const childEnv = { ...process.env };
  delete childEnv.PORT;
  delete childEnv.HOST;
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-deprecation', '--import', 'tsx', '--conditions=@rioco/source', mainPath, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: childEnv,
    });
    let stderr = '';
    let stopped = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Once: a second SIGINT after the app finished its shutdown (its handlers are gone)
      // would kill it by signal instead of letting it exit with 130.
      if (!stopped && stderr.includes('listening on')) {
        stopped = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

function echoOnce(port: number, text: string): Promise<{ reply: string; socket: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(text));
    let reply = '';
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.length >= text.length) resolve({ reply, socket });
    });
    socket.on('error', reject);
  });
}

describe('apps/echo', () => {
  it('echoes on an ephemeral port and shuts down gracefully on SIGINT, closing connections', async () => {
    const app = await startApp(mainPath, /listening on [^:]+:(\d+)/);
    const a = await echoOnce(app.port, 'hello fibers\n');
    expect(a.reply).toBe('hello fibers\n');
    const closed = new Promise<void>((r) => a.socket.on('close', () => r()));
    app.child.kill('SIGINT');
    await closed; // the server closed our open connection during shutdown
    expect(await app.exited).toBe(130);
  });

  it('rejects an empty or non-numeric PORT (variable or argument) and an empty HOST with a message and exit code 2', async () => {
    const usage = /usage: node dist\/main\.js \[PORT\]/;
    const cases: Array<[string[], { PORT?: string; HOST?: string }, RegExp]> = [
      [[], { PORT: '' }, /echo: the PORT environment variable must be a port number from 0 to 65535 .*got ""/],
      [[], { PORT: 'abc' }, /echo: the PORT environment variable must be a port number .*got "abc"/],
      [[], { PORT: ' 7007' }, /got " 7007"/],
      [[], { PORT: '1e3' }, /got "1e3"/],
      [[], { PORT: '70000' }, /got "70000"/],
      [['abc'], {}, /echo: the PORT argument must be a port number .*got "abc"/],
      [['80.5'], { PORT: '0' }, /the PORT argument .*got "80\.5"/],
      [['-1'], {}, /the PORT argument .*got "-1"/],
      [['0'], { HOST: '' }, /echo: the HOST environment variable is empty/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => runApp(args, env)));
    results.forEach((r, i) => {
      const [args, env, message] = cases[i];
      const what = `args ${JSON.stringify(args)}, env ${JSON.stringify(env)}: ${r.stderr}`;
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).toMatch(usage);
      expect(r.stderr, what).not.toMatch(/listening on|at .*\.ts:\d+/); // no start, no stack trace
      expect(r.code, what).toBe(2);
    });
  });

  it('takes the port from the PORT variable when there is no argument', async () => {
    const r = await runApp([], { PORT: '0' });
    expect(r.stderr).toMatch(/listening on 127\.0\.0\.1:\d+/);
    expect(r.code).toBe(130); // stopped by runApp once it listened
  });
});
