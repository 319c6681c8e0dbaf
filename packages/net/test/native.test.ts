import { describe, it, expect } from 'vitest';
import { spawn as spawnProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errnoName, runTest, socketReactor, spawn } from '@rioco/core';
import { connect, listen } from '@rioco/net';
import { portOf, turn, until, useDriver } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const nodeArgs = (name: string): string[] => ['--no-deprecation', '--import', 'tsx', '--conditions=@rioco/source', fixture(name)];

function start(name: string): { out: () => string; waitFor: (text: string) => Promise<void>; exit: Promise<number | null> } {
  const child = spawnProcess(process.execPath, nodeArgs(name), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RIOCO_NET_DRIVER: 'native' },
  });
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const waitFor = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (out.includes(text)) resolve();
        else if (child.exitCode !== null) reject(new Error(`exited before "${text}": ${out}`));
        else waiters.push(check);
      };
      void exit.then(check);
      check();
    });
  return { out: () => out, waitFor, exit };
}

describe.runIf(socketReactor() !== null)('native readiness path', () => {
  useDriver('native');

  it('a fiber parked in accept() keeps the process alive; it exits once the fiber is done', async () => {
    const p = start('accept-one.ts');
    await p.waitFor('listening');
    const port = Number(/listening (\d+)/.exec(p.out())![1]);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = createConnection({ host: '127.0.0.1', port }, () => sock.write('ping\n'));
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    expect(reply).toBe('ping!\n');
    expect(await p.exit).toBe(0);
    expect(p.out()).toContain('done');
  });

  it('an open listener nobody waits on does not keep the process alive', async () => {
    const p = start('idle-listener.ts');
    expect(await p.exit).toBe(0);
    expect(p.out()).toContain('exited');
  });

  it('a worker terminated while its fibers wait on sockets leaves no descriptor open', async () => {
    const boot = new URL('../../core/test/fixtures/native-boot.mjs', import.meta.url);
    const file = new URL('./fixtures/native-worker.ts', import.meta.url).href;
    for (let round = 0; round < 3; round++) {
      const w = new Worker(boot, { workerData: { file }, env: { ...process.env, RIOCO_NET_DRIVER: 'native' } });
      const fds = await new Promise<number[]>((resolve, reject) => w.once('message', resolve).once('error', reject));
      expect(fds).toHaveLength(3);
      for (const fd of fds) expect(existsSync(`/proc/self/fd/${fd}`)).toBe(true);
      await w.terminate();
      for (const fd of fds) expect(existsSync(`/proc/self/fd/${fd}`)).toBe(false);
    }
  });

  it('every fiber parked on a native socket holds the event loop: reader, writer, acceptor, connector', () =>
    runTest(function* () {
      const reactor = socketReactor() as unknown as { holds: number };
      using l = yield* listen({ host: '127.0.0.1', port: 0 });
      const base = reactor.holds;
      const acceptor = spawn(function* () {
        yield* l.accept();
      });
      yield* turn();
      expect(reactor.holds).toBe(base + 1);
      yield* acceptor.halt();
      expect(reactor.holds).toBe(base);
      const connector = spawn(function* () {
        yield* connect({ host: '127.0.0.1', port: portOf(l) });
      });
      expect(reactor.holds).toBe(base); // not started yet
      yield* turn();
      yield* connector.halt(); // parked in connect (or done): nothing held afterwards
      expect(reactor.holds).toBe(base);
      using c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
      using _s = yield* l.accept();
      const reader = spawn(function* () {
        return yield* c.read(); // s never writes
      });
      // A writer to a peer that does not read (s) parks once the kernel's buffers are full.
      const writer = spawn(function* () {
        for (;;) yield* c.write(Buffer.alloc(1 << 20));
      });
      yield* until(() => c.bufferedWriteBytes > 0 && reactor.holds === base + 2, 'the writer to park');
      yield* writer.halt();
      expect(reactor.holds).toBe(base + 1);
      yield* reader.halt();
      expect(reactor.holds).toBe(base);
    }));

  it('names system errors', () => {
    expect(errnoName(-104)).toBe('ECONNRESET');
    expect(errnoName(111)).toBe('ECONNREFUSED');
    expect(errnoName(-99999)).toBe('E99999');
  });
});
