import { describe, it, expect } from 'vitest';
import { spawn as spawnProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errnoName, runTest, socketReactor, spawn } from '@rioco/core';
import { connect, listen } from '@rioco/net';
import { SteppedClock, pair, portOf, timesOutAt, turn, until, useDriver } from './helpers.js';
import { vi } from 'vitest';

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

  it('a parked reader gets its bytes from the reactor (no native read per message), and kept chunks survive slab changes', () =>
    runTest(function* () {
      const reactor = socketReactor()!;
      const reads = vi.spyOn(reactor, 'read');
      try {
        const [a, b] = yield* pair();
        const rounds = 1500; // 1500 x 100 B: the reactor's 64 KiB slab is replaced twice
        const kept: Buffer[] = [];
        const echo = spawn(function* () {
          for (let i = 0; i < rounds; i++) {
            const chunk = yield* b.read(); // parks every time: the peer sends after our reply
            expect(chunk).not.toBeNull();
            kept.push(chunk!);
            yield* b.write(chunk!);
          }
        });
        for (let i = 0; i < rounds; i++) {
          const msg = Buffer.alloc(100, i % 251);
          yield* a.write(msg);
          expect(yield* a.readExactly(100)).toEqual(msg);
        }
        yield* echo;
        // Each of the two readers parked on every message; the reactor read for them.
        // (A native read comes only from the first attempt of a fresh stream or a spurious edge.)
        expect(reads.mock.calls.length).toBeLessThan(rounds / 10);
        expect(kept).toHaveLength(rounds);
        kept.forEach((c, i) => expect(c.equals(Buffer.alloc(100, i % 251))).toBe(true));
        a.close();
        b.close();
      } finally {
        reads.mockRestore();
      }
    }));

  it('an armed read that lands after its reader gave up is kept for the next read; the end and a reset arrive the same way', () => {
    // Virtual time: it moves only when the test advances it (the read is an external wait).
    const clock = new SteppedClock();
    return runTest(
      function* () {
        const [a, b] = yield* pair();
        // The reader parks (armed) and times out: the bytes sent afterwards are not lost.
        yield* timesOutAt(clock, 30, 'net.stream.read', () => b.read({ timeout: 30 }));
        expect(b.bufferedReadBytes).toBe(0);
        yield* a.write('after the timeout');
        yield* until(() => b.bufferedReadBytes > 0, 'the reactor to read for the armed descriptor');
        expect(String(yield* b.read())).toBe('after the timeout');
        // The end of stream reaches a parked reader through its armed read.
        const reader = spawn(function* () {
          return yield* b.read();
        });
        yield* turn();
        yield* a.shutdownWrite();
        expect(yield* reader).toBeNull();
        // A reset reaches a parked reader the same way.
        const [c, d] = yield* pair();
        const failing = spawn(function* () {
          try {
            yield* c.read();
            return 'no error';
          } catch (e) {
            return (e as { syscallCode?: string }).syscallCode;
          }
        });
        yield* turn();
        d.reset();
        expect(yield* failing).toBe('ECONNRESET');
        a.close();
        b.close();
        c.close();
      },
      { clock },
    );
  });

  it('names system errors', () => {
    expect(errnoName(-104)).toBe('ECONNRESET');
    expect(errnoName(111)).toBe('ECONNREFUSED');
    expect(errnoName(-99999)).toBe('E99999');
  });
});
