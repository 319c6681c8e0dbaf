import { describe, it, expect } from 'vitest';
import { InvalidArgumentError, runTest, spawn, useScheduler, type Operation } from '@rioco/core';
import { ConnectionResetError, SocketClosedError, connect, listen, type Stream } from '@rioco/net';
import { DRIVERS, portOf, runUnderFdLimit, until, useDriver } from './helpers.js';

function* readAll(conn: Stream): Operation<string> {
  let s = '';
  for (let b; (b = yield* conn.read()) !== null; ) s += b.toString();
  return s;
}

for (const driver of DRIVERS) {
  describe(`${driver} driver`, () => {
    useDriver(driver);

    describe('Listener.serve', () => {
      it('runs the handler in a fiber per connection and closes each stream when its handler ends', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const fibers = new Set<number | undefined>();
          const server = spawn(() =>
            l.serve(
              function* (conn) {
                fibers.add(useScheduler().current()?.id);
                const line = yield* conn.readLine();
                yield* conn.write(`hello ${line}\n`);
              },
              { name: 'greeter' },
            ),
          );
          const clients = [];
          for (const who of ['a', 'b', 'c']) {
            const c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
            yield* c.write(`${who}\n`);
            clients.push(c);
          }
          const replies = [];
          for (const c of clients) replies.push(yield* readAll(c)); // the end comes: the stream was closed
          expect(replies).toEqual(['hello a\n', 'hello b\n', 'hello c\n']);
          expect(fibers.size).toBe(3);
          yield* server.halt();
          for (const c of clients) c.close();
        }));

      it('keeps serving when a handler fails; a NetError ends only its connection, others are reported', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const reported: unknown[] = [];
          const unhook = useScheduler().addHooks({ unhandledError: (e) => reported.push(e) });
          let n = 0;
          const server = spawn(() =>
            l.serve(function* (conn) {
              const k = ++n;
              if (k === 1) throw new Error('handler bug');
              if (k === 2) throw new ConnectionResetError('the peer went away');
              yield* conn.write('served\n');
            }),
          );
          const results = [];
          for (let i = 0; i < 3; i++) {
            const c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
            results.push(yield* readAll(c));
            c.close();
          }
          expect(results).toEqual(['', '', 'served\n']);
          expect(reported).toHaveLength(1);
          expect((reported[0] as Error).message).toBe('handler bug');
          yield* server.halt();
          unhook();
        }));

      it('cancelling serve cancels every handler mid-wait; their finally blocks run and their streams close', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          let parked = 0;
          let cleaned = 0;
          const server = spawn(() =>
            l.serve(function* (conn) {
              try {
                parked++;
                yield* conn.read(); // the client sends nothing
              } finally {
                cleaned++;
              }
            }),
          );
          const a = yield* connect({ host: '127.0.0.1', port: portOf(l) });
          const b = yield* connect({ host: '127.0.0.1', port: portOf(l) });
          yield* until(() => parked === 2, 'both handlers parked in read');
          yield* server.halt();
          expect(cleaned).toBe(2);
          expect([yield* a.read(), yield* b.read()]).toEqual([null, null]);
          a.close();
          b.close();
        }));

      it('ends with the accept error once the listener is closed, after its connections finished', () =>
        runTest(function* () {
          const l = yield* listen({ host: '127.0.0.1', port: 0 });
          let started = false;
          let finished = 0;
          const server = spawn(function* () {
            try {
              yield* l.serve(function* (conn) {
                started = true;
                yield* conn.readLine();
                finished++;
              });
            } catch (e) {
              return { e, finished };
            }
            return null;
          });
          const c = yield* connect({ host: '127.0.0.1', port: portOf(l) });
          yield* until(() => started, 'the connection accepted');
          l.close();
          yield* c.write('bye\n');
          const out = yield* server;
          expect(out?.e).toBeInstanceOf(SocketClosedError);
          expect(out?.finished).toBe(1);
          c.close();
        }));

      it('rejects bad arguments at the call', () =>
        runTest(function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          const bad = (f: () => unknown): unknown => {
            try {
              f();
              return null;
            } catch (e) {
              return e;
            }
          };
          expect(bad(() => l.serve(42 as never))).toBeInstanceOf(InvalidArgumentError);
          expect(bad(() => l.serve(function* () {}, { retryAfter: -1 }))).toBeInstanceOf(InvalidArgumentError);
          expect(bad(() => l.serve(function* () {}, { retryAfter: Infinity }))).toBeInstanceOf(InvalidArgumentError);
          expect(bad(() => l.serve(function* () {}, { name: 7 as never }))).toBeInstanceOf(InvalidArgumentError);
          expect(bad(() => l.serve(function* () {}, { onTooManyOpenFiles: 'x' as never }))).toBeInstanceOf(InvalidArgumentError);
        }));

      it('waits and accepts again after running out of file descriptors', () => {
        const r = runUnderFdLimit('serve-emfile.ts', driver) as { shortages: number; served: string };
        // libuv (the node driver) drops a connection it has no descriptor for on its own,
        // so only the native driver reports the shortage to accept().
        if (driver === 'native') expect(r.shortages).toBeGreaterThanOrEqual(1);
        expect(r.served).toBe('served\n');
      });
    });
  });
}
