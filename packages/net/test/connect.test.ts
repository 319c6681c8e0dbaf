import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { inspect } from 'node:util';
import { InvalidArgumentError, RiocoError, currentFiber, runTest, spawn, wait, type Operation } from '@rioco/core';
import {
  AbortedError,
  ConnectionRefusedError,
  NetError,
  TimeoutError,
  connect,
  listen,
  type InetAddress,
  type Stream,
  type TcpConnectOptions,
} from '@rioco/net';
import { DRIVERS, SteppedClock, catching, openFds, portOf, turn, until, useDriver, waitingOn } from './helpers.js';

/**
 * A loopback listener that never accepts: a worker thread listens with backlog 1 (0 would
 * mean Node's default) and then blocks its event loop, so the kernel's accept queue fills after a connection or
 * two and later SYNs go unanswered. `release()` unblocks and ends the worker.
 */
function* unansweredListener(): Operation<{ port: number; release: () => Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0); // block the loop: nothing is ever accepted
       server.close();
     });`,
    { eval: true, workerData: flag },
  );
  const port = yield* wait(new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject)));
  return {
    port,
    release: async () => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await worker.terminate();
    },
  };
}

/**
 * Time out the connect that fiber `id` makes with `timeout` on `clock` once it hangs: wait
 * until it has stayed parked on 'net.connect' for 50 event-loop turns in a row (a loopback
 * SYN is answered within the connect call, so an attempt still parked then got no answer;
 * time stands still meanwhile, so its deadline has not passed), then move the clock to 1 ms
 * before its deadline and, if it still waits there (`seen` is told so), to the deadline. One
 * that was answered late after all is passed over: the next attempt is watched.
 */
function* timeOutHungConnect(clock: SteppedClock, id: number, timeout: number, seen: () => void): Operation<void> {
  for (;;) {
    let parkedFor = 0;
    yield* until(() => {
      parkedFor = waitingOn(id) === 'net.connect' ? parkedFor + 1 : 0;
      return parkedFor >= 50;
    }, 'a connect to hang');
    yield* wait(clock.advance(timeout - 1));
    yield* turn();
    if (waitingOn(id) === 'net.connect') break;
  }
  seen();
  yield* wait(clock.advance(1));
}

/**
 * Connect to an unansweredListener's `port` with `timeout` until an attempt hangs and times
 * out on `clock` (see timeOutHungConnect). The first connection(s) fill the backlog of 1;
 * returns them, the error of the attempt that hung, whether it still waited 1 ms before
 * its deadline and the descriptors open before it began.
 */
function* connectUntilOneTimesOut(
  clock: SteppedClock,
  port: number,
  timeout: number,
): Operation<{ opened: Stream[]; timedOut: unknown; waitedToDeadline: boolean; fdsBefore: number }> {
  const opened: Stream[] = [];
  let timedOut: unknown;
  let waitedToDeadline = false;
  let fdsBefore = -1;
  const me = currentFiber()!.id;
  const driver = spawn(() => timeOutHungConnect(clock, me, timeout, () => (waitedToDeadline = true)));
  try {
    for (let i = 0; i < 8 && timedOut === undefined; i++) {
      fdsBefore = openFds();
      try {
        opened.push(yield* connect({ host: '127.0.0.1', port, timeout }));
      } catch (e) {
        timedOut = e;
      }
    }
  } catch (e) {
    for (const s of opened) s.close();
    throw e;
  } finally {
    yield* driver.halt();
  }
  return { opened, timedOut, waitedToDeadline, fdsBefore };
}

for (const driver of DRIVERS) {
  describe(`${driver} driver`, () => {
    useDriver(driver);

    describe('connect', () => {
      it('fails with ConnectionRefusedError when nothing listens', () =>
        runTest(function* () {
          const l = yield* listen({ host: '127.0.0.1', port: 0 });
          const port = portOf(l);
          l.close();
          const e = yield* catching(connect({ host: '127.0.0.1', port }));
          expect(e).toBeInstanceOf(ConnectionRefusedError);
          expect(e).toBeInstanceOf(NetError);
          expect(e).toBeInstanceOf(RiocoError); // one base class for every Rioco failure
          expect(e).toMatchObject({ code: 'CONNECTION_REFUSED', syscallCode: 'ECONNREFUSED' });
          expect(((e as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
        }));

      it('times out at its deadline against a listener that never answers, and leaves nothing behind', () => {
        // Virtual time: it moves only when the test advances it (a pending connect is an external wait).
        const clock = new SteppedClock();
        return runTest(
          function* () {
            const { port, release } = yield* unansweredListener();
            let r: { opened: Stream[]; timedOut: unknown; waitedToDeadline: boolean; fdsBefore: number } | undefined;
            try {
              // The first connection(s) fill the backlog of 1; the next one hangs in SYN_SENT.
              r = yield* connectUntilOneTimesOut(clock, port, 150);
              // The attempt that timed out released its descriptor (node:net closes it a loop turn later).
              yield* until(() => openFds() === r!.fdsBefore, 'the timed-out attempt to release its socket');
            } finally {
              for (const s of r?.opened ?? []) s.close();
              yield* wait(release());
            }
            expect(r.waitedToDeadline).toBe(true); // 1 ms before its deadline: still waiting
            expect(r.timedOut).toBeInstanceOf(TimeoutError);
            expect((r.timedOut as TimeoutError).code).toBe('TIMED_OUT');
            expect((r.timedOut as Error).message).toMatch(/connect to 127\.0\.0\.1:\d+ timed out/);
          },
          { clock },
        );
      });

      it('rejects bad options with InvalidArgumentError naming the option, before creating a socket', () =>
        runTest(function* () {
          const before = openFds();
          const tcp = { host: '127.0.0.1', port: 80 };
          const bad: Array<[object, RegExp]> = [
            [{ ...tcp, family: 5 }, /family must be 4 or 6/],
            [{ ...tcp, family: '4' }, /family must be 4 or 6/],
            [{ ...tcp, family: 0 }, /family must be 4 or 6/],
            [{ ...tcp, localAddress: 'bogus' }, /localAddress must be an IP address/],
            [{ ...tcp, localAddress: 'localhost' }, /localAddress must be an IP address/],
            [{ ...tcp, localAddress: 127 }, /localAddress must be an IP address/],
            [{ ...tcp, localPort: 70000 }, /localPort must be an integer from 0 to 65535/],
            [{ ...tcp, localPort: -1 }, /localPort/],
            [{ ...tcp, localPort: 1.5 }, /localPort/],
            [{ ...tcp, localPort: '80' }, /localPort/],
            [{ ...tcp, keepAliveInitialDelay: Infinity }, /keepAliveInitialDelay must be a finite number/],
            [{ ...tcp, keepAliveInitialDelay: -1 }, /keepAliveInitialDelay/],
            [{ ...tcp, keepAliveInitialDelay: Number.NaN }, /keepAliveInitialDelay/],
            [{ ...tcp, noDelay: 'yes' }, /noDelay must be a boolean/],
            [{ ...tcp, noDelay: 1 }, /noDelay must be a boolean/],
            [{ ...tcp, keepAlive: 'true' }, /keepAlive must be a boolean/],
            [{ path: '/tmp/rioco-none.sock', port: 80 }, /both "path" .* and "port"/],
            [{ path: '/tmp/rioco-none.sock', host: '127.0.0.1' }, /both "path" .* and "host"/],
            [{ path: '/tmp/rioco-none.sock', host: '::1', port: 80 }, /"host" and "port"/],
            [{ path: '/tmp/rioco-none.sock', localPort: 1234 }, /"localPort"/],
          ];
          for (const [o, msg] of bad) {
            const call = (): unknown => connect(o as TcpConnectOptions);
            expect(call, inspect(o)).toThrow(InvalidArgumentError);
            expect(call, inspect(o)).toThrow(msg);
          }
          expect(openFds()).toBe(before); // thrown at the call: no socket was ever made
        }));

      it('takes valid local-address, family and keep-alive options', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          using c = yield* connect({
            host: '127.0.0.1',
            port: portOf(l),
            localAddress: '127.0.0.1',
            localPort: 0,
            family: 4,
            noDelay: false,
            keepAlive: true,
            keepAliveInitialDelay: 0,
          });
          using s = yield* l.accept();
          expect((c.localAddress as InetAddress).address).toBe('127.0.0.1');
          yield* c.write('ok');
          expect((yield* s.readExactly(2)).toString()).toBe('ok');
        }));

      it('connects by name, trying each address the name resolves to', () =>
        runTest(function* () {
          // Listening on IPv4 only: where "localhost" resolves to ::1 first, that address
          // refuses and the next one is tried.
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const server = spawn(function* () {
            using s = yield* l.accept();
            yield* s.write((yield* s.readLine())! + '!\n');
          });
          using c = yield* connect({ host: 'localhost', port: portOf(l), timeout: 5_000 });
          yield* c.write('by name\n');
          expect(yield* c.readLine()).toBe('by name!');
          expect(c.remoteAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: portOf(l) });
          yield* server;
          const e = yield* catching(connect({ host: 'no-such-host.invalid', port: 80, timeout: 5_000 }));
          expect(e).toBeInstanceOf(NetError);
          expect((e as NetError).syscallCode).toBe('ENOTFOUND');
        }));

      it('timeout 0 gives up at once (a connect never completes synchronously)', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          expect(yield* catching(connect({ host: '127.0.0.1', port: portOf(l), timeout: 0 }))).toBeInstanceOf(TimeoutError);
          // The listener may have accepted the half-made connection; it sees it end.
          yield* turn();
        }));

      it('an aborted or cancelled connect destroys its socket', () => {
        // Virtual time: it moves only when the test advances it (a pending connect is an external wait).
        const clock = new SteppedClock();
        return runTest(
          function* () {
            const { port, release } = yield* unansweredListener();
            let opened: Stream[] = [];
            try {
              // Fill the backlog first: until a connect hangs (and times out).
              const r = yield* connectUntilOneTimesOut(clock, port, 100);
              opened = r.opened;
              expect(r.waitedToDeadline).toBe(true);
              expect(r.timedOut).toBeInstanceOf(TimeoutError);
              yield* until(() => openFds() === r.fdsBefore, 'the timed-out attempt to release its socket');
              const before = openFds();
              const ac = new AbortController();
              const attempt = spawn(function* () {
                return yield* catching(connect({ host: '127.0.0.1', port, signal: ac.signal }));
              });
              yield* until(() => waitingOn(attempt.id) === 'net.connect', 'the aborted attempt to park');
              expect(openFds()).toBe(before + 1); // its socket
              ac.abort();
              expect(yield* attempt).toBeInstanceOf(AbortedError);
              const cancelled = spawn(function* () {
                yield* connect({ host: '127.0.0.1', port });
              });
              yield* until(() => waitingOn(cancelled.id) === 'net.connect', 'the cancelled attempt to park');
              yield* cancelled.halt();
              // Neither attempt left its descriptor open (node:net closes it a loop turn later).
              yield* until(() => openFds() === before, 'the attempts to release their sockets');
            } finally {
              for (const s of opened) s.close();
              yield* wait(release());
            }
          },
          { clock },
        );
      });
    });
  });
}
