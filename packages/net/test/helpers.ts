import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketReactor, spawn, useScheduler, wait, type Operation } from '@rioco/core';
import type { Socket as NetSocket } from 'node:net';
import { SteppedClock } from './steppedClock.js';
import { AbortedError, connect, listen, SocketClosedError, TimeoutError, type InetAddress, type Listener, type NetError, type Stream } from '@rioco/net';

/** Run `op`, returning its error (or undefined when it succeeds). */
export function* catching(op: Operation<unknown>): Operation<unknown> {
  try {
    yield* op;
    return undefined;
  } catch (e) {
    return e;
  }
}

/** What the fiber `id` is parked on (its wait reason), if it is parked. */
export function waitingOn(id: number): string | undefined {
  return useScheduler()
    .fibers()
    .find((f) => f.id === id)?.waitingOn;
}

/**
 * Wait until `parked()` holds and `progress()` stays the same for `turns` event-loop
 * turns in a row: a writer stuck on a full kernel buffer, not one between two writes.
 */
export function* untilStuck(parked: () => boolean, progress: () => number, what: string, turns = 50): Operation<void> {
  let still = 0;
  let last = -1;
  yield* until(() => {
    const now = progress();
    still = parked() && now === last ? still + 1 : 0;
    last = now;
    return still >= turns;
  }, what, 20_000);
}

/** A fresh Unix socket path under os.tmpdir(). */
export function tmpSocketPath(name = 's.sock'): string {
  return join(mkdtempSync(join(tmpdir(), 'rioco-net-')), name);
}

export function portOf(l: Listener): number {
  return (l.address as InetAddress).port;
}

/** Echo every byte back until the peer ends its side, then end ours. */
export function* echo(conn: Stream): Operation<void> {
  conn.adopt();
  for (let b; (b = yield* conn.read()) !== null; ) yield* conn.write(b);
  yield* conn.shutdownWrite();
}

/** A loopback echo listener served by a child fiber (one fiber per connection). */
export function* echoServer(): Operation<{ listener: Listener; port: number }> {
  const listener = yield* listen({ host: '127.0.0.1', port: 0 });
  spawn(
    function* () {
      listener.adopt();
      for (;;) {
        let conn: Stream;
        try {
          conn = yield* listener.accept();
        } catch (e) {
          if (e instanceof SocketClosedError) return; // the test closed the listener
          throw e;
        }
        spawn(echo, { args: [conn], name: 'echo' });
      }
    },
    { name: 'accept-loop' },
  );
  return { listener, port: portOf(listener) };
}

/** One turn of the event loop (lets I/O callbacks run); for bounded polling only. */
export function* turn(): Operation<void> {
  yield* wait(new Promise<void>((resolve) => setImmediate(resolve)));
}

/** Poll `cond` once per event-loop turn, at most `max` turns. */
export function* until(cond: () => boolean, what: string, max = 2000): Operation<void> {
  for (let i = 0; i < max; i++) {
    if (cond()) return;
    yield* turn();
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A connected pair over loopback TCP: [client side, server side]. */
export function* pair(options: { readHighWaterMark?: number } = {}): Operation<[Stream, Stream]> {
  using listener = yield* listen({ host: '127.0.0.1', port: 0, ...options });
  const client = yield* connect({ host: '127.0.0.1', port: portOf(listener), ...options });
  const server = yield* listener.accept();
  return [client, server];
}

/** A connected pair over a Unix domain socket: [client side, server side]; the listener is closed again. */
export function* unixPair(options: { readHighWaterMark?: number } = {}): Operation<[Stream, Stream]> {
  const listener = yield* listen({ path: tmpSocketPath(), ...options });
  try {
    const client = yield* connect({ path: (listener.address as { path: string }).path, ...options });
    const server = yield* listener.accept();
    return [client, server];
  } finally {
    listener.close();
  }
}

export { SteppedClock };

/** Descriptors this process has open (Linux). */
export const openFds = (): number => readdirSync('/proc/self/fd').length;

/** The Node.js socket under a stream, for white-box tests only. */
export function rawSocket(s: Stream): NetSocket {
  return (s as unknown as { s: { socket: NetSocket } }).s.socket;
}

/** The drivers this machine can run: the native readiness path (where available) and node:net. */
export const DRIVERS: readonly ('native' | 'node')[] = socketReactor() !== null ? ['native', 'node'] : ['node'];

/** In a describe block: run its tests with RIOCO_NET_DRIVER set to `driver`. */
export function useDriver(driver: 'native' | 'node'): void {
  let before: string | undefined;
  beforeAll(() => {
    before = process.env.RIOCO_NET_DRIVER;
    process.env.RIOCO_NET_DRIVER = driver;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.RIOCO_NET_DRIVER;
    else process.env.RIOCO_NET_DRIVER = before;
  });
}

/** The driver state under a stream or listener, for white-box tests only. */
function stateOf(x: Stream | Listener): Record<string, unknown> {
  return (x as unknown as { s: Record<string, unknown> }).s;
}

/**
 * Call `fn` right after the stream's driver has seen new input and woken its reader,
 * before the reader runs (node:net: the next 'data' event; native: the next readable event).
 */
export function afterWake(s: Stream, fn: () => void): void {
  const st = stateOf(s);
  if ('socket' in st) {
    rawSocket(s).once('data', fn);
    return;
  }
  const proto = Object.getPrototypeOf(st) as { onReadiness: (bits: number) => void };
  (st as { onReadiness: (bits: number) => void }).onReadiness = (bits: number): void => {
    proto.onReadiness.call(st, bits);
    if (bits & 1) {
      delete (st as { onReadiness?: unknown }).onReadiness;
      fn();
    }
  };
}

/** Whether the stream's socket was released (node:net: destroyed; native: descriptor closed). */
export function released(s: Stream): boolean {
  const st = stateOf(s);
  if ('socket' in st) return rawSocket(s).destroyed;
  return st.socketClosed === true && !existsSync(`/proc/self/fd/${st.fd as number}`);
}

/** Whether `n` connections are queued at the listener, not accepted yet (native: in the kernel, so once connected). */
export function hasPendingConnection(l: Listener, n = 1): boolean {
  const st = stateOf(l);
  return 'pendingCount' in st ? st.pendingCount === n : true;
}

/**
 * Run `fixtures/<name>` in a child process under `ulimit -n 128` on `driver` and return
 * the JSON line it prints (a clean exit and an empty stderr are checked). A child, since
 * lowering the limit of the test process itself would starve every later test there.
 */
export function runUnderFdLimit(name: string, driver: 'native' | 'node'): Record<string, unknown> {
  const fixture = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const node = [process.execPath, '--no-deprecation', '--import', 'tsx', '--conditions=@rioco/source', fixture]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const out = spawnSync('sh', ['-c', `ulimit -n 128 && exec ${node}`], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, RIOCO_NET_DRIVER: driver },
  });
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return JSON.parse(out.stdout.trim()) as Record<string, unknown>;
}

/**
 * Run `call` (one made with `{ timeout: ms }`) in a fiber on `clock`: parked on `reason`,
 * still waiting 1 ms before its deadline, failed with TimeoutError (TIMED_OUT) at it.
 */
export function* timesOutAt(clock: SteppedClock, ms: number, reason: string, call: () => Operation<unknown>): Operation<void> {
  let outcome: unknown = 'waiting';
  const t = spawn(function* () {
    outcome = yield* catching(call());
  });
  yield* until(() => waitingOn(t.id) === reason, `the call to park on ${reason}`);
  yield* wait(clock.advance(ms - 1));
  yield* turn();
  expect(outcome).toBe('waiting'); // 1 ms before the deadline: still waiting
  yield* wait(clock.advance(1));
  yield* turn();
  expect(outcome).toBeInstanceOf(TimeoutError); // at the deadline: timed out
  yield* t;
  expect((outcome as NetError).code).toBe('TIMED_OUT');
}

/**
 * Run `call(signal)` in a fiber until it is parked on `reason`, abort the signal, and check
 * that the call failed with AbortedError (code ABORTED) carrying the abort reason as its
 * cause. Returns the aborted signal, for a next call that must fail at once.
 */
export function* abortedWhileParked(reason: string, call: (signal: AbortSignal) => Operation<unknown>): Operation<AbortSignal> {
  const ac = new AbortController();
  const t = spawn(() => catching(call(ac.signal)));
  yield* until(() => waitingOn(t.id) === reason, `the call to park on ${reason}`);
  const why = new Error('stop');
  ac.abort(why);
  const e = yield* t;
  expect(e).toBeInstanceOf(AbortedError);
  expect(e).toMatchObject({ code: 'ABORTED' });
  expect((e as Error).cause).toBe(why);
  return ac.signal;
}
