import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { inspect } from 'node:util';
import { InvalidArgumentError, RiocoError, runTest, spawn, wait, type Operation } from '@rioco/core';
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
import { DRIVERS, catching, openFds, portOf, turn, until, useDriver } from './helpers.js';

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

      it('times out against a listener that never answers, and leaves nothing behind', () =>
        runTest(function* () {
          const { port, release } = yield* unansweredListener();
          const opened: Stream[] = [];
          let timedOut: unknown;
          try {
            // The first connection(s) fill the backlog of 1; the next one hangs in SYN_SENT.
            // A real timeout is the trigger here (only the kernel knows when a SYN goes
            // unanswered); the test checks what it produced, not how long it took.
            for (let i = 0; i < 8 && timedOut === undefined; i++) {
              try {
                opened.push(yield* connect({ host: '127.0.0.1', port, timeout: 150 }));
              } catch (e) {
                timedOut = e;
              }
            }
          } finally {
            for (const s of opened) s.close();
            yield* wait(release());
          }
          expect(timedOut).toBeInstanceOf(TimeoutError);
          expect((timedOut as TimeoutError).code).toBe('TIMED_OUT');
          expect((timedOut as Error).message).toMatch(/connect to 127\.0\.0\.1:\d+ timed out/);
        }));

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

      it('an aborted or cancelled connect destroys its socket', () =>
        runTest(function* () {
          const { port, release } = yield* unansweredListener();
          const opened: Stream[] = [];
          try {
            // Fill the backlog first.
            for (let i = 0; i < 8; i++) {
              try {
                opened.push(yield* connect({ host: '127.0.0.1', port, timeout: 100 }));
              } catch (e) {
                expect(e).toBeInstanceOf(TimeoutError);
                break;
              }
            }
            const before = openFds();
            const ac = new AbortController();
            const attempt = spawn(function* () {
              return yield* catching(connect({ host: '127.0.0.1', port, signal: ac.signal }));
            });
            yield* turn();
            ac.abort();
            expect(yield* attempt).toBeInstanceOf(AbortedError);
            const cancelled = spawn(function* () {
              yield* connect({ host: '127.0.0.1', port });
            });
            yield* turn();
            yield* cancelled.halt();
            // Neither attempt left its descriptor open (node:net closes it a loop turn later).
            yield* until(() => openFds() === before, 'the attempts to release their sockets');
          } finally {
            for (const s of opened) s.close();
            yield* wait(release());
          }
        }));
    });
  });
}
