import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { InvalidArgumentError, runTest, spawn, wait } from '@rioco/core';
import {
  AbortedError,
  AddressInUseError,
  ConnectionRefusedError,
  ConnectionResetError,
  NetError,
  SocketClosedError,
  TooManyOpenFilesError,
  UnsupportedError,
  connect,
  listen,
  type Listener,
  type Stream,
} from '@rioco/net';
import {
  DRIVERS,
  abortedWhileParked,
  SteppedClock,
  catching,
  hasPendingConnection,
  openFds,
  portOf,
  runUnderFdLimit,
  timesOutAt,
  tmpSocketPath,
  turn,
  until,
  useDriver,
  waitingOn,
} from './helpers.js';

/** The longest Unix socket path, in bytes without the NUL: sun_path is 108 bytes on Linux, 104 on macOS and the BSDs. */
const MAX_UNIX_PATH = process.platform === 'linux' ? 107 : 103;

function serverOf(l: Listener): import('node:net').Server {
  return (l as unknown as { s: { server: import('node:net').Server } }).s.server;
}

for (const driver of DRIVERS) {
  describe(`${driver} driver`, () => {
    useDriver(driver);

    describe('Listener', () => {
      it('accepts many connections, one fiber each', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0, backlog: 64 });
          expect(l.address).toMatchObject({ family: 'IPv4', address: '127.0.0.1' });
          const n = 20;
          const server = spawn(function* () {
            const handlers = [];
            for (let i = 0; i < n; i++) {
              const conn = yield* l.accept();
              handlers.push(
                spawn(function* () {
                  conn.adopt();
                  const line = yield* conn.readLine();
                  yield* conn.write(`${line}!\n`);
                }),
              );
            }
            for (const h of handlers) yield* h;
          });
          const clients = Array.from({ length: n }, (_, i) =>
            spawn(function* () {
              using c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
              yield* c.write(`hi ${i}\n`);
              return yield* c.readLine();
            }),
          );
          for (let i = 0; i < n; i++) expect(yield* clients[i]).toBe(`hi ${i}!`);
          yield* server;
        }));

      it('an accept that times out (at its deadline) or is cancelled takes no connection', () => {
        // Virtual time: it moves only when the test advances it (the accept is an external wait).
        const clock = new SteppedClock();
        return runTest(
          function* () {
            using l = yield* listen({ host: '127.0.0.1', port: 0 });
            yield* timesOutAt(clock, 20, 'net.listener.accept', () => l.accept({ timeout: 20 }));
            const acceptor = spawn(function* () {
              return yield* l.accept();
            });
            yield* until(() => waitingOn(acceptor.id) === 'net.listener.accept', 'the acceptor to park');
            yield* acceptor.halt();
            using c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
            using s = yield* l.accept({ timeout: 5_000 });
            expect(s.remoteAddress).toEqual(c.localAddress);
            yield* c.write('x');
            expect((yield* s.read())!.toString()).toBe('x');
          },
          { clock },
        );
      });

      it('an accept aborted through its signal fails with AbortedError, and the listener accepts the next connection', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const aborted = yield* abortedWhileParked('net.listener.accept', (signal) => l.accept({ signal }));
          // With the signal already aborted, accept fails at once and takes nothing.
          using c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
          yield* until(() => hasPendingConnection(l), 'the connection to wait at the listener');
          expect(yield* catching(l.accept({ signal: aborted }))).toBeInstanceOf(AbortedError);
          // The next accept gets that connection.
          using s = yield* l.accept();
          expect(s.remoteAddress).toEqual(c.localAddress);
          yield* c.write('x');
          expect((yield* s.read())!.toString()).toBe('x');
        }));

      it('connections that arrived while nobody was accepting go to the next accepts, in order, with their bytes', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          using c1 = yield* connect({ host: '127.0.0.1', port: portOf(l) });
          yield* c1.write('from c1');
          using c2 = yield* connect({ host: '127.0.0.1', port: portOf(l) });
          yield* c2.write('from c2');
          // Both wait at the listener (node:net: accepted eagerly, queued; native: in the kernel's backlog).
          yield* until(() => hasPendingConnection(l, 2), 'both connections to wait at the listener');
          using s1 = yield* l.accept();
          using s2 = yield* l.accept();
          expect(s1.remoteAddress).toEqual(c1.localAddress);
          expect(s2.remoteAddress).toEqual(c2.localAddress);
          expect((yield* s1.readExactly(7)).toString()).toBe('from c1');
          expect((yield* s2.readExactly(7)).toString()).toBe('from c2');
          // Both work both ways.
          yield* s1.write('to c1');
          yield* s2.write('to c2');
          expect((yield* c1.readExactly(5)).toString()).toBe('to c1');
          expect((yield* c2.readExactly(5)).toString()).toBe('to c2');
        }));

      it('several fibers may accept on one listener', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const acceptors = [0, 1, 2].map(() =>
            spawn(function* () {
              const s = yield* l.accept();
              s.adopt();
              return (yield* s.readLine())!;
            }),
          );
          yield* turn();
          const clients: Stream[] = [];
          for (let i = 0; i < 3; i++) {
            const c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
            yield* c.write(`c${i}\n`);
            clients.push(c);
          }
          const got = [];
          for (const a of acceptors) got.push(yield* a);
          expect(got.sort()).toEqual(['c0', 'c1', 'c2']);
        }));

      it('a taken address fails with AddressInUseError carrying EADDRINUSE', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const e = yield* catching(listen({ host: '127.0.0.1', port: portOf(l) }));
          expect(e).toBeInstanceOf(AddressInUseError);
          expect(e).toMatchObject({ code: 'ADDRESS_IN_USE', syscallCode: 'EADDRINUSE' });
          expect(((e as Error).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
        }));

      it('close() fails parked acceptors', () =>
        runTest(function* () {
          const l = yield* listen({ host: '127.0.0.1', port: 0 });
          const port = portOf(l);
          const acceptor = spawn(function* () {
            return yield* catching(l.accept());
          });
          yield* turn();
          l.close();
          expect(l.closed).toBe(true);
          expect(yield* acceptor).toBeInstanceOf(SocketClosedError);
          expect(yield* catching(l.accept())).toBeInstanceOf(SocketClosedError);
          const e = yield* catching(connect({ host: '127.0.0.1', port }));
          expect(e).toBeInstanceOf(ConnectionRefusedError);
        }));

      it('close() closes connections nobody accepted (their clients see the end or a reset), keeps accepted ones, leaks nothing', () =>
        runTest(function* () {
          const before = openFds();
          const l = yield* listen({ host: '127.0.0.1', port: 0 });
          const port = portOf(l);
          const a = yield* connect({ host: '127.0.0.1', port });
          const accepted = yield* l.accept();
          const never = yield* connect({ host: '127.0.0.1', port });
          yield* until(() => hasPendingConnection(l), 'the connection nobody accepts');
          l.close();
          // The client of the unaccepted connection sees it end: node:net destroys the
          // socket it had accepted (FIN), the kernel resets what was still in its backlog.
          let end: unknown;
          try {
            end = yield* never.read();
          } catch (e) {
            end = e;
          }
          if (end !== null) expect(end).toBeInstanceOf(ConnectionResetError);
          // The accepted stream stays open.
          yield* a.write('still here');
          expect((yield* accepted.readExactly(10)).toString()).toBe('still here');
          never.close();
          a.close();
          accepted.close();
          yield* until(() => openFds() === before, 'every descriptor to be released');
        }));

      // node:net reports accept failures as 'error' events on the server; simulate one.
      if (driver === 'node') {
        it('stays usable after EMFILE from accept (simulated) and reports it once', () =>
          runTest(function* () {
            using l = yield* listen({ host: '127.0.0.1', port: 0 });
            const acceptor = spawn(function* () {
              return yield* catching(l.accept());
            });
            yield* turn();
            const err = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', errno: -24, syscall: 'accept' });
            serverOf(l).emit('error', err);
            const e = yield* acceptor;
            expect(e).toBeInstanceOf(TooManyOpenFilesError);
            expect(e).toMatchObject({ code: 'TOO_MANY_OPEN_FILES', syscallCode: 'EMFILE', cause: err });
            using c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
            using s = yield* l.accept({ timeout: 5_000 });
            yield* c.write('still here');
            expect((yield* s.read())!.toString()).toBe('still here');
          }));
      }

      it('surfaces a real EMFILE as TooManyOpenFilesError, and the listener keeps accepting', () => {
        const r = runUnderFdLimit('emfile.ts', driver);
        const emfile = { tooManyOpenFiles: true, name: 'TooManyOpenFilesError', code: 'TOO_MANY_OPEN_FILES', syscallCode: 'EMFILE' };
        expect(r.filled).toBeGreaterThan(50);
        expect(r.connect).toEqual(emfile);
        // Out of descriptors for the server side of a connection: the native driver reports
        // it to the accept. libuv (node:net) accepts on its own as soon as the connection
        // arrives, and drops it without a word when it has no descriptor: the accept then
        // times out at its deadline, on the fixture's virtual clock (or got the connection,
        // if one was free at that moment). Either way the listener keeps working:
        if (driver === 'native') expect(r.accept).toEqual(emfile);
        else if (r.accept !== 'accepted') {
          expect(r.accept).toMatchObject({ code: 'TIMED_OUT' });
          expect(r.waitedToDeadline).toBe(true); // still waiting 1 ms before it
        }
        expect(r.echoed).toBe('ok');
      });

      it('is an async iterable outside fibers', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const got = wait(
            (async () => {
              for await (const conn of l) {
                const remote = conn.remoteAddress;
                await conn[Symbol.asyncDispose]();
                return remote;
              }
              return undefined;
            })(),
          );
          using c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
          expect(yield* got).toEqual(c.localAddress);
          const ended = wait(
            (async () => {
              for await (const conn of l) conn.close();
              return 'ended';
            })(),
          );
          l.close();
          expect(yield* ended).toBe('ended');
        }));

      it('reusePort: two listeners share a port (node:net driver: on Node >= 22.12, else UnsupportedError)', () =>
        runTest(function* () {
          const [major, minor] = process.versions.node.split('.').map(Number);
          const supported = driver === 'native' || major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
          if (!supported) {
            expect(() => listen({ host: '127.0.0.1', port: 0, reusePort: true })).toThrow(UnsupportedError);
            return;
          }
          using a = yield* listen({ host: '127.0.0.1', port: 0, reusePort: true });
          using b = yield* listen({ host: '127.0.0.1', port: portOf(a), reusePort: true });
          expect(portOf(b)).toBe(portOf(a));
        }));

      it('is closed when the fiber that opened it ends', () =>
        runTest(function* () {
          const port = yield* spawn(function* () {
            const l = yield* listen({ host: '127.0.0.1', port: 0 });
            return portOf(l);
          });
          const e = yield* catching(connect({ host: '127.0.0.1', port }));
          expect(e).toBeInstanceOf(ConnectionRefusedError);
          expect(e).toMatchObject({ code: 'CONNECTION_REFUSED', syscallCode: 'ECONNREFUSED' });
        }));

      it('rejects bad options', () =>
        runTest(function* () {
          expect(() => listen({ host: '127.0.0.1', port: -1 })).toThrow(/port/);
          expect(() => listen({ host: '127.0.0.1', port: 0, backlog: -1 })).toThrow(/backlog/);
          expect(() => listen({ path: '' })).toThrow(/path/);
          expect(() => listen({ path: '/tmp/x', reusePort: true })).toThrow(/reusePort/);
        }));

      it('rejects bad option values and mixed Unix/TCP addresses with InvalidArgumentError naming the option, before creating a socket', () =>
        runTest(function* () {
          const before = openFds();
          const path = tmpSocketPath();
          const tcp = { host: '127.0.0.1', port: 0 };
          const bad: Array<[object, RegExp]> = [
            [{ ...tcp, backlog: 1.5 }, /backlog must be an integer from 0 to 2147483647/],
            [{ ...tcp, backlog: 2 ** 31 }, /backlog must be an integer from 0 to 2147483647/],
            [{ ...tcp, backlog: '64' }, /backlog/],
            [{ ...tcp, ipv6Only: 'yes' }, /ipv6Only must be a boolean/],
            [{ ...tcp, reusePort: 1 }, /reusePort must be a boolean/],
            [{ path, readableAll: 'true' }, /readableAll must be a boolean/],
            [{ path, writableAll: 1 }, /writableAll must be a boolean/],
            [{ ...tcp, noDelay: 'no' }, /noDelay must be a boolean/],
            [{ ...tcp, keepAlive: 0 }, /keepAlive must be a boolean/],
            [{ ...tcp, keepAliveInitialDelay: Infinity }, /keepAliveInitialDelay must be a finite number/],
            [{ path, port: 0 }, /both "path" .* and "port"/],
            [{ path, host: '127.0.0.1' }, /both "path" .* and "host"/],
            [{ path, ipv6Only: true }, /"ipv6Only"/],
          ];
          for (const [o, msg] of bad) {
            const call = (): unknown => listen(o);
            expect(call, inspect(o)).toThrow(InvalidArgumentError);
            expect(call, inspect(o)).toThrow(msg);
          }
          expect(existsSync(path)).toBe(false);
          expect(openFds()).toBe(before);
          // The edges of the ranges are fine (backlog 0: the default).
          using l0 = yield* listen({ ...tcp, backlog: 0, ipv6Only: false, noDelay: true });
          using l1 = yield* listen({ ...tcp, backlog: 2 ** 31 - 1 });
          expect(portOf(l0)).toBeGreaterThan(0);
          expect(portOf(l1)).toBeGreaterThan(0);
        }));
    });

    describe('Unix domain sockets', () => {
      it('listen, connect, echo, half-close and clean up the path', () =>
        runTest(function* () {
          const path = tmpSocketPath();
          const l = yield* listen({ path });
          expect(l.address).toEqual({ family: 'unix', path });
          const server = spawn(function* () {
            using s = yield* l.accept();
            for (let b; (b = yield* s.read()) !== null; ) yield* s.write(b);
            yield* s.shutdownWrite();
          });
          using c = yield* connect({ path });
          expect(c.remoteAddress).toEqual({ family: 'unix', path });
          yield* c.write('over unix\n');
          expect(yield* c.readLine()).toBe('over unix');
          yield* c.shutdownWrite();
          expect(yield* c.read()).toBe(null);
          yield* server;
          l.close();
          yield* until(() => !existsSync(path), 'the socket file to be removed');
          const e = yield* catching(connect({ path }));
          expect(e).toBeInstanceOf(ConnectionRefusedError);
          expect((e as NetError).syscallCode).toBe('ENOENT');
        }));

      it(`rejects a path longer than ${MAX_UNIX_PATH} bytes (UTF-8 bytes, not characters) before creating anything; one at the limit works`, () =>
        runTest(function* () {
          const dir = mkdtempSync(join(tmpdir(), 'rioco-net-'));
          const atLimit = join(dir, 'x'.repeat(MAX_UNIX_PATH - dir.length - 1));
          expect(Buffer.byteLength(atLimit)).toBe(MAX_UNIX_PATH);
          const tooLong = `${atLimit}y`;
          const tooManyBytes = `${atLimit.slice(0, -1)}é`; // as many characters as atLimit, one byte more
          expect(tooManyBytes.length).toBe(MAX_UNIX_PATH);
          const before = openFds();
          for (const path of [tooLong, tooManyBytes]) {
            const limit = new RegExp(`${MAX_UNIX_PATH + 1} bytes long.*at most ${MAX_UNIX_PATH} bytes`);
            expect(() => listen({ path })).toThrow(InvalidArgumentError);
            expect(() => listen({ path })).toThrow(limit);
            expect(() => connect({ path })).toThrow(InvalidArgumentError);
            expect(() => connect({ path })).toThrow(limit);
          }
          expect(readdirSync(dir)).toEqual([]); // no truncated socket file left behind
          expect(openFds()).toBe(before);

          const l = yield* listen({ path: atLimit });
          expect(l.address).toEqual({ family: 'unix', path: atLimit });
          expect(readdirSync(dir)).toEqual([atLimit.slice(dir.length + 1)]);
          using c = yield* connect({ path: atLimit });
          using s = yield* l.accept();
          yield* c.write('at the limit');
          expect((yield* s.readExactly(12)).toString()).toBe('at the limit');
          l.close();
          yield* until(() => readdirSync(dir).length === 0, 'the socket file to be removed');
        }));

      it('rejects a path with a NUL byte (it would name a shorter path, or an abstract one) before creating anything', () =>
        runTest(function* () {
          const dir = mkdtempSync(join(tmpdir(), 'rioco-net-'));
          const before = openFds();
          for (const path of [join(dir, 'a\0b'), '\0abstract', `${join(dir, 'c')}\0`]) {
            const nulAt = new RegExp(`NUL byte at index ${path.indexOf('\0')}`);
            expect(() => listen({ path })).toThrow(InvalidArgumentError);
            expect(() => listen({ path })).toThrow(nulAt);
            expect(() => connect({ path })).toThrow(InvalidArgumentError);
            expect(() => connect({ path })).toThrow(nulAt);
          }
          expect(readdirSync(dir)).toEqual([]); // no socket file at the truncated path
          expect(openFds()).toBe(before);
        }));

      it('a taken path fails with AddressInUseError', () =>
        runTest(function* () {
          const path = tmpSocketPath();
          using _l = yield* listen({ path });
          expect(yield* catching(listen({ path }))).toBeInstanceOf(AddressInUseError);
        }));
    });
  });
}
