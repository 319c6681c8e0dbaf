import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { forEachSeed, runTest, spawn, wait, yieldNow, type Operation } from '@rioco/core';
import {
  AbortedError,
  BrokenPipeError,
  ConnectionResetError,
  type InetAddress,
  LineTooLongError,
  NetError,
  ReadInProgressError,
  SocketClosedError,
  TimeoutError,
  UnexpectedEofError,
  connect,
  listen,
  type Stream,
} from '@rioco/net';
import { InvalidArgumentError } from '@rioco/core';
import {
  DRIVERS,
  SteppedClock,
  abortedWhileParked,
  afterWake,
  echoServer,
  openFds,
  pair,
  released,
  tmpSocketPath,
  turn,
  unixPair,
  until,
  useDriver,
  catching,
  untilStuck,
  timesOutAt,
  waitingOn,
} from './helpers.js';

function* readAll(s: Stream): Operation<Buffer> {
  const parts: Buffer[] = [];
  for (let b; (b = yield* s.read()) !== null; ) parts.push(b);
  return Buffer.concat(parts);
}

for (const driver of DRIVERS) {
  describe(`${driver} driver`, () => {
    useDriver(driver);

    describe('Stream: echo round trips', () => {
      it('read, readExactly, readLine and writeAll round-trip through an echo server', () =>
        runTest(function* () {
          const { listener, port } = yield* echoServer();
          using c = yield* connect({ host: '127.0.0.1', port, noDelay: true });
          expect(c.remoteAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port });
          expect((c.localAddress as InetAddress).address).toBe('127.0.0.1');

          yield* c.write('hello');
          expect((yield* c.readExactly(5)).toString()).toBe('hello');

          yield* c.writeAll(['one\r\n', Buffer.from('two\nthr'), 'ee\n']);
          expect(yield* c.readLine()).toBe('one');
          expect(yield* c.readLine()).toBe('two');
          expect(yield* c.readLine()).toBe('three');

          const big = Buffer.alloc(1 << 20, 7);
          big[12345] = 1;
          spawn(function* () {
            yield* c.write(big);
          });
          const back = yield* c.readExactly(big.length);
          expect(back.equals(big)).toBe(true);

          yield* c.shutdownWrite();
          expect(yield* c.read()).toBe(null);
          expect(yield* c.readLine()).toBe(null);
          listener.close();
        }));

      it('a write operation runs again each time it is run, and writes issued while bytes are queued keep their order', () =>
        runTest(function* () {
          const [a, b] = yield* pair();
          const op = a.write('ab');
          yield* op;
          yield* op; // an operation is a recipe: running it again writes again
          expect((yield* b.readExactly(4)).toString()).toBe('abab');
          // A large write the kernel takes only in part parks; smaller writes from other
          // fibers queue behind it and are written after it, in order.
          const big = Buffer.alloc(8 << 20, 1);
          const bigWrite = spawn(() => a.write(big));
          yield* until(() => a.bufferedWriteBytes > 0, 'the big write to park');
          let queuedWhenTailReturned = -1;
          const small = spawn(function* () {
            yield* a.write('tail');
            // The tail went to the kernel after every byte of the big write: nothing is
            // left queued when it returns. (Which of the two fibers runs first after both
            // writes completed is the scheduler's choice, e.g. under a seed.)
            queuedWhenTailReturned = a.bufferedWriteBytes;
          });
          const got = yield* b.readExactly(big.length + 4);
          yield* small;
          yield* bigWrite;
          expect(got.subarray(0, big.length).equals(big)).toBe(true);
          expect(got.subarray(big.length).toString()).toBe('tail');
          expect(queuedWhenTailReturned).toBe(0);
          a.close();
          b.close();
        }));

      it('keeps every byte in order under any chunking (property)', () =>
        fc.assert(
          fc.asyncProperty(
            fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 12 }),
            fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }),
            (chunks, reads) =>
              runTest(function* () {
                const [a, b] = yield* pair();
                const want = Buffer.concat(chunks);
                spawn(function* () {
                  yield* a.writeAll(chunks);
                  yield* a.shutdownWrite();
                });
                const got: Buffer[] = [];
                let total = 0;
                for (let i = 0; total < want.length; i++) {
                  const n = Math.min(reads[i % reads.length], want.length - total);
                  const part = i % 2 === 0 ? yield* b.readExactly(n) : ((yield* b.read()) as Buffer);
                  got.push(part);
                  total += part.length;
                }
                expect(Buffer.concat(got).equals(want)).toBe(true);
                expect(yield* b.read()).toBe(null);
              }),
          ),
          { numRuns: 15 },
        ));

      it('round-trips under the seeded scheduler', () =>
        forEachSeed(8, function* () {
          const { listener, port } = yield* echoServer();
          const clients = [0, 1, 2].map((i) =>
            spawn(function* () {
              using c = yield* connect({ host: '127.0.0.1', port });
              for (let k = 0; k < 5; k++) {
                const msg = `client ${i} message ${k}\n`;
                yield* c.write(msg);
                expect(yield* c.readLine()).toBe(msg.trimEnd());
              }
            }),
          );
          for (const t of clients) yield* t;
          listener.close();
        }));
    });

    describe('Stream: fairness', () => {
      it('a reader whose data is always there still lets other fibers run', () =>
        runTest(function* () {
          const [a, b] = yield* pair();
          const reads = 8192;
          yield* a.write(Buffer.alloc(reads * 16, 3));
          let ticks = 0;
          let done = false;
          const ticker = spawn(function* () {
            while (!done) {
              ticks++;
              yield* yieldNow();
            }
          });
          let got = 0;
          for (let i = 0; i < reads; i++) got += (yield* b.readExactly(16)).length;
          done = true;
          yield* ticker;
          expect(got).toBe(reads * 16);
          // Without the cooperative budget the reader would hold the thread for all its
          // reads (the data never makes it wait); with it, it yields every 128 calls.
          expect(ticks).toBeGreaterThanOrEqual(reads / 128 / 2);
        }));
    });

    describe('Stream: half-close', () => {
      it('shutdownWrite sends the end, the peer answers, and reading goes on', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          yield* c.write('request');
          yield* c.shutdownWrite();
          yield* c.shutdownWrite(); // idempotent
          expect((yield* readAll(s)).toString()).toBe('request');
          yield* s.write('response');
          yield* s.shutdownWrite();
          expect((yield* readAll(c)).toString()).toBe('response');
          const err = yield* catching(c.write('more'));
          expect(err).toBeInstanceOf(SocketClosedError);
          expect((err as NetError).code).toBe('SOCKET_CLOSED');
        }));
    });

    describe('Stream: small writes', () => {
      it('small and large writes from several streams keep each stream\'s order, and a close right after loses nothing', () =>
        runTest(function* () {
          const pairs: [Stream, Stream][] = [];
          for (let i = 0; i < 3; i++) pairs.push(yield* pair());
          const sent: Buffer[][] = pairs.map(() => []);
          let fill = 0;
          const put = function* (i: number, size: number): Operation<void> {
            const b = Buffer.alloc(size, 97 + (fill++ % 26));
            sent[i].push(b);
            yield* pairs[i][0].write(b);
          };
          // In one turn: every stream writes small, then large (past what is queued: its
          // queued bytes must go first while other streams' are queued after them), then
          // small twice in a row, then small enough together to pass the 4 KiB a stream
          // may have queued.
          for (let i = 0; i < 3; i++) yield* put(i, 10 + i);
          for (let i = 0; i < 3; i++) yield* put(i, 8192 + i);
          for (let i = 0; i < 3; i++) {
            yield* put(i, 5);
            yield* put(i, 7);
          }
          for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) yield* put(i, 1000);
          // And a last small one each, still queued when the stream closes.
          for (let i = 0; i < 3; i++) yield* put(i, 3);
          for (const [c] of pairs) c.close();
          for (let i = 0; i < 3; i++) {
            const got = yield* readAll(pairs[i][1]);
            expect(got.equals(Buffer.concat(sent[i])), `stream ${i}`).toBe(true);
          }
        }));

      it('a write followed by reset() in the same turn neither throws nor writes to a reused descriptor', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          yield* c.write('lost or not');
          c.reset();
          // The descriptor number is free again: a new stream may get it at once.
          const [c2, s2] = yield* pair();
          yield* c2.write('mine');
          c2.close();
          expect((yield* readAll(s2)).toString()).toBe('mine');
          const e = yield* catching(readAll(s));
          if (e !== undefined) expect(e).toBeInstanceOf(ConnectionResetError);
          s.close();
          s2.close();
        }));
    });

    describe('Stream: backpressure', () => {
      it('a writer to a peer that does not read parks, and user-space buffers stay bounded', () =>
        // Much more than our bounds goes out before the writer parks: it sits in kernel buffers.
        runTest(() => backpressure((hwm) => pair({ readHighWaterMark: hwm }), 4 * 256 * 1024)));

      it('the same with small writes (queued and sent together on the native driver)', () =>
        runTest(() => backpressure((hwm) => pair({ readHighWaterMark: hwm }), 4 * 256 * 1024, 1000)));

      it('the same with small writes each sent at the end of its turn', () =>
        runTest(() => backpressure((hwm) => pair({ readHighWaterMark: hwm }), 4 * 256 * 1024, 1000, true)));

      it('the next write waits for the bytes of a timed-out write before sending its own', () => {
        // Virtual time: it moves only when the test advances it (a parked write is an external wait).
        const clock = new SteppedClock();
        return runTest(
          function* () {
            const [c, s] = yield* pair();
            const chunk = Buffer.alloc(256 * 1024, 2);
            // Writes with a deadline to a peer that does not read: the ones the kernel takes
            // complete (time stands still), until one parks on the full kernel buffers.
            let n = 0;
            const writer = spawn(function* () {
              for (;;) {
                n++;
                expect(n).toBeLessThan(2000);
                const e = yield* catching(c.write(chunk, { timeout: 100 }));
                if (e !== undefined) return e;
              }
            });
            const parked = (): boolean => waitingOn(writer.id) === 'net.stream.write';
            yield* untilStuck(parked, () => n * chunk.length - c.bufferedWriteBytes, 'a write to park on a full kernel buffer');
            yield* wait(clock.advance(99));
            yield* turn();
            expect(parked()).toBe(true); // 1 ms before its deadline: still waiting
            yield* wait(clock.advance(1));
            const e = yield* writer;
            expect(e).toBeInstanceOf(TimeoutError);
            expect((e as NetError).code).toBe('TIMED_OUT');
            expect(c.bufferedWriteBytes).toBeGreaterThan(0); // the timed-out write left its bytes queued
            // Every byte of the n writes (the timed-out one too) arrives before the next write's.
            const reader = spawn(function* () {
              return yield* s.readExactly(n * chunk.length + 1);
            });
            yield* c.write(Buffer.from([9]));
            expect(c.bufferedWriteBytes).toBe(0);
            const got = yield* reader;
            expect(got.length).toBe(n * chunk.length + 1);
            expect(got.subarray(0, n * chunk.length).every((b) => b === 2)).toBe(true);
            expect(got[n * chunk.length]).toBe(9);
          },
          { clock },
        );
      });
    });

    describe('Stream: timeouts and cancellation lose nothing', () => {
      it('a read that times out does so at its deadline, consumes nothing, and the next read gets the bytes', () => {
        // Virtual time: it moves only when the test advances it (the read is an external wait).
        const clock = new SteppedClock();
        return runTest(
          function* () {
            const [c, s] = yield* pair();
            yield* timesOutAt(clock, 30, 'net.stream.read', () => c.read({ timeout: 30 }));
            yield* s.write('abc');
            expect((yield* c.read())!.toString()).toBe('abc');
          },
          { clock },
        );
      });

      it('timeout 0 polls: returns buffered bytes, else throws at once', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          expect(yield* catching(c.read({ timeout: 0 }))).toBeInstanceOf(TimeoutError);
          yield* s.write('z');
          // Poll until the byte is there: each poll either returns it or throws at once.
          let got: Buffer | null | undefined;
          for (let i = 0; i < 2000 && got === undefined; i++) {
            try {
              got = yield* c.read({ timeout: 0 });
            } catch (e) {
              expect(e).toBeInstanceOf(TimeoutError);
              yield* turn();
            }
          }
          expect(got!.toString()).toBe('z');
        }));

      it('readExactly that times out with part of the bytes keeps them', () => {
        // Virtual time: it moves only when the test advances it (the read is an external wait).
        const clock = new SteppedClock();
        return runTest(
          function* () {
            const [c, s] = yield* pair();
            yield* s.write('123');
            let outcome: unknown = 'waiting';
            const reader = spawn(function* () {
              outcome = yield* catching(c.readExactly(5, { timeout: 40 }));
            });
            // Parked for the two missing bytes, with the three that came buffered.
            yield* until(() => waitingOn(reader.id) === 'net.stream.read' && c.bufferedReadBytes === 3, 'the reader to park with 3 bytes');
            yield* wait(clock.advance(39));
            yield* turn();
            expect(outcome).toBe('waiting'); // 1 ms before its deadline: still waiting
            yield* wait(clock.advance(1));
            yield* reader;
            expect(outcome).toBeInstanceOf(TimeoutError);
            expect((outcome as NetError).code).toBe('TIMED_OUT');
            expect(c.bufferedReadBytes).toBe(3); // consumed nothing
            yield* s.write('45');
            expect((yield* c.readExactly(5)).toString()).toBe('12345');
          },
          { clock },
        );
      });

      it('a cancelled reader loses nothing, also when cancelled after data woke it', () =>
        runTest(() => cancelledReaders(() => pair())));

      it('an aborted read throws AbortedError and keeps the bytes', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          const aborted = yield* abortedWhileParked('net.stream.read', (signal) => c.read({ signal }));
          expect(yield* catching(c.read({ signal: aborted }))).toBeInstanceOf(AbortedError);
          yield* s.write('kept');
          expect((yield* c.read())!.toString()).toBe('kept');
        }));
    });

    describe('Stream: errors', () => {
      it('a peer reset surfaces as ConnectionResetError with the system code', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          s.reset();
          const e = yield* catching(c.read());
          expect(e).toBeInstanceOf(ConnectionResetError);
          expect(e).toMatchObject({ code: 'CONNECTION_RESET', syscallCode: 'ECONNRESET' });
          expect(((e as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
          // Sticky: later calls report it too.
          expect(yield* catching(c.write('x'))).toBe(e);
        }));

      it('writing to a closed peer fails with BROKEN_PIPE or CONNECTION_RESET', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          s.close();
          let e: unknown;
          for (let i = 0; i < 200 && e === undefined; i++) {
            e = yield* catching(c.write('data'));
            if (e === undefined) yield* turn();
          }
          expect(e).toBeInstanceOf(NetError);
          const ne = e as NetError;
          expect(['BROKEN_PIPE', 'CONNECTION_RESET']).toContain(ne.code);
          // The kernel may say either: EPIPE on the write, or the peer's RST first.
          expect(ne.syscallCode).toBe(ne.code === 'BROKEN_PIPE' ? 'EPIPE' : 'ECONNRESET');
          expect(ne).toBeInstanceOf(ne.code === 'BROKEN_PIPE' ? BrokenPipeError : ConnectionResetError);
        }));

      it('close() fails a parked reader with SocketClosedError; later calls too', () =>
        runTest(function* () {
          const [c] = yield* pair();
          const reader = spawn(function* () {
            return yield* catching(c.read());
          });
          yield* turn();
          c.close();
          c.close(); // idempotent
          expect(yield* reader).toBeInstanceOf(SocketClosedError);
          expect(yield* catching(c.read())).toBeInstanceOf(SocketClosedError);
          expect(yield* catching(c.write('x'))).toBeInstanceOf(SocketClosedError);
          expect(c.closed).toBe(true);
        }));

      it('a second concurrent reader gets ReadInProgressError', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          const first = spawn(function* () {
            return (yield* c.read())!.toString();
          });
          yield* turn();
          const e = yield* catching(c.read());
          expect(e).toBeInstanceOf(ReadInProgressError);
          expect((e as NetError).code).toBe('READ_IN_PROGRESS');
          yield* s.write('one');
          expect(yield* first).toBe('one');
        }));

      it('readExactly past the end throws UnexpectedEofError and keeps the partial bytes', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          yield* s.write('abc');
          yield* s.shutdownWrite();
          const e = yield* catching(c.readExactly(5));
          expect(e).toBeInstanceOf(UnexpectedEofError);
          expect((e as UnexpectedEofError).available).toBe(3);
          expect((yield* c.read())!.toString()).toBe('abc');
          expect(yield* c.read()).toBe(null);
          expect(yield* c.readLine()).toBe(null);
        }));

      it('readLine returns the unterminated last line, and rejects a line past maxLength without consuming', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          yield* s.write('x'.repeat(100));
          const e = yield* catching(c.readLine({ maxLength: 10 }));
          expect(e).toBeInstanceOf(LineTooLongError);
          expect((e as NetError).code).toBe('LINE_TOO_LONG');
          expect((yield* c.readExactly(100)).length).toBe(100);
          yield* s.write('tail');
          yield* s.shutdownWrite();
          expect(yield* c.readLine()).toBe('tail');
          expect(yield* c.readLine()).toBe(null);
        }));

      it('maxLength bounds a line without its line end, \\n and \\r\\n alike; a rejected line stays buffered', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          yield* s.write('abc\nabc\r\nabcd\r\n');
          expect(yield* c.readLine({ maxLength: 3 })).toBe('abc');
          expect(yield* c.readLine({ maxLength: 3 })).toBe('abc');
          const e = yield* catching(c.readLine({ maxLength: 3 }));
          expect(e).toBeInstanceOf(LineTooLongError);
          expect((e as NetError).code).toBe('LINE_TOO_LONG');
          // Nothing was consumed: the whole line and its line end are still there.
          expect(yield* c.readLine({ maxLength: 4 })).toBe('abcd');

          // A CRLF split between two arrivals: "abc\r" is a 3-byte line still arriving, not too long.
          yield* s.write('abc\r');
          let polled: unknown;
          for (let i = 0; i < 2000; i++) {
            polled = yield* catching(c.readLine({ maxLength: 3, timeout: 0 }));
            if (!(polled instanceof TimeoutError) || c.bufferedReadBytes === 4) break;
            yield* turn();
          }
          expect(c.bufferedReadBytes).toBe(4);
          expect(polled).toBeInstanceOf(TimeoutError); // it saw all 4 bytes and waits for more
          yield* s.write('\n');
          expect(yield* c.readLine({ maxLength: 3 })).toBe('abc');

          // The last line has no line end: there a CR is content, and counts.
          yield* s.write('abc\r');
          yield* s.shutdownWrite();
          expect(yield* catching(c.readLine({ maxLength: 3 }))).toBeInstanceOf(LineTooLongError);
          expect(yield* c.readLine({ maxLength: 4 })).toBe('abc\r');
          expect(yield* c.readLine({ maxLength: 3 })).toBe(null);
        }));

      it('setNoDelay and setKeepAlive reject bad arguments with InvalidArgumentError', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          const bad: Array<[() => unknown, RegExp]> = [
            [() => c.setNoDelay('yes' as unknown as boolean), /setNoDelay: noDelay must be a boolean/],
            [() => c.setNoDelay(null as unknown as boolean), /setNoDelay: noDelay must be a boolean/],
            [() => c.setKeepAlive(1 as unknown as boolean), /setKeepAlive: enable must be a boolean/],
            [() => (c.setKeepAlive as (...a: unknown[]) => void)(), /setKeepAlive: enable must be a boolean/],
            [() => c.setKeepAlive(true, Infinity), /initialDelay/],
            [() => c.setKeepAlive(true, Number.NaN), /initialDelay/],
            [() => c.setKeepAlive(true, -1), /initialDelay/],
            [() => c.setKeepAlive(true, '10' as unknown as number), /initialDelay/],
          ];
          for (const [f, msg] of bad) {
            expect(f).toThrow(InvalidArgumentError);
            expect(f).toThrow(msg);
          }
          // Good arguments still work, and the stream is untouched.
          c.setNoDelay();
          c.setNoDelay(false);
          c.setKeepAlive(true, 30_000);
          c.setKeepAlive(false);
          yield* c.write('ok');
          expect((yield* s.readExactly(2)).toString()).toBe('ok');
        }));

      it('rejects bad input with InvalidArgumentError before doing anything', () =>
        runTest(function* () {
          const [c] = yield* pair();
          const bad: Array<() => unknown> = [
            () => c.readExactly(-1),
            () => c.readExactly(1.5),
            () => c.write(123 as unknown as string),
            () => c.writeAll(['ok', 5 as unknown as string]),
            () => c.read({ timeout: -1 }),
            () => c.read({ timeout: Number.NaN }),
            () => c.read({ signal: {} as AbortSignal }),
            () => c.readLine({ maxLength: 0 }),
            () => connect({ host: '127.0.0.1', port: 70000 }),
            () => connect({ host: '', port: 80 }),
            () => connect({ host: '127.0.0.1', port: 80, readHighWaterMark: 0 }),
            () => connect({ path: '' }),
          ];
          for (const f of bad) expect(f).toThrow(InvalidArgumentError);
        }));
    });

    describe('Stream: Unix domain streams', () => {
      it('reset() is a plain close there: it does not throw, the peer sees the end, nothing stays open', () =>
        runTest(function* () {
          const before = openFds();
          const [c, s] = yield* unixPair();
          yield* c.write('last words');
          expect((yield* s.readExactly(10)).toString()).toBe('last words');
          s.reset();
          s.reset(); // idempotent
          expect(s.closed).toBe(true);
          expect(released(s)).toBe(true);
          expect(yield* c.read()).toBe(null); // the end of stream, not CONNECTION_RESET
          // The connecting side too.
          const [c2, s2] = yield* unixPair();
          c2.reset();
          expect(released(c2)).toBe(true);
          expect(yield* s2.read()).toBe(null);
          c.close();
          s2.close();
          yield* until(() => openFds() === before, 'every descriptor to be released');
        }));

      it('a read that times out does so at its deadline, consumes nothing, and the next read gets the bytes', () => {
        const clock = new SteppedClock();
        return runTest(
          function* () {
            const [c, s] = yield* unixPair();
            yield* s.write('before');
            expect((yield* c.readExactly(6)).toString()).toBe('before');
            yield* timesOutAt(clock, 30, 'net.stream.read', () => c.read({ timeout: 30 }));
            expect(c.bufferedReadBytes).toBe(0);
            yield* s.write('after the timeout');
            yield* s.shutdownWrite();
            expect((yield* readAll(c)).toString()).toBe('after the timeout');
            c.close();
            s.close();
          },
          { clock },
        );
      });

      it('a cancelled reader loses nothing, also when cancelled after data woke it', () =>
        runTest(() => cancelledReaders(() => unixPair())));

      it('a writer to a peer that does not read parks, and user-space buffers stay bounded', () =>
        // Unix socket buffers are smaller than TCP's: several writes go out before it parks.
        runTest(() => backpressure((hwm) => unixPair({ readHighWaterMark: hwm }), 2 * 64 * 1024)));

      it('a Unix stream is closed when its owner fiber ends (returned or cancelled); the peer sees the end', () =>
        runTest(function* () {
          const before = openFds();
          using l = yield* listen({ path: tmpSocketPath() });
          const path = (l.address as { path: string }).path;
          // The connecting side, opened by a child fiber that just returns.
          const inner = yield* spawn(function* () {
            const c = yield* connect({ path });
            yield* c.write('bye');
            return c;
          });
          expect(inner.closed).toBe(true);
          expect(released(inner)).toBe(true);
          using s = yield* l.accept();
          expect((yield* readAll(s)).toString()).toBe('bye');
          // The accepting side, adopted by a child fiber that is cancelled in a read.
          using c2 = yield* connect({ path });
          const accepted = yield* l.accept();
          const handler = spawn(function* () {
            accepted.adopt();
            yield* accepted.write('oops');
            yield* accepted.read(); // parks until cancelled
          });
          yield* until(() => waitingOn(handler.id) === 'net.stream.read', 'the handler to park');
          yield* handler.halt();
          expect(accepted.closed).toBe(true);
          expect(released(accepted)).toBe(true);
          expect((yield* readAll(c2)).toString()).toBe('oops');
          s.close();
          c2.close();
          l.close();
          yield* until(() => openFds() === before, 'every descriptor to be released');
        }));
    });

    describe('Stream: ownership', () => {
      it('a stream is closed when the fiber that opened it ends; the peer sees the end', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          let inner: Stream | undefined;
          yield* spawn(function* () {
            inner = c;
            c.adopt();
            yield* c.write('bye');
          });
          expect(inner!.closed).toBe(true);
          expect((yield* readAll(s)).toString()).toBe('bye');
        }));

      it('`using` closes at the end of the block, even when the fiber is cancelled', () =>
        runTest(function* () {
          const [c, s] = yield* pair();
          const t = spawn(function* () {
            using conn = c;
            yield* conn.read(); // parks until cancelled
          });
          yield* turn();
          yield* t.halt();
          expect(c.closed).toBe(true);
          expect(yield* s.read()).toBe(null);
        }));

      it('asyncDispose resolves once the socket is released', () =>
        runTest(function* () {
          const [c] = yield* pair();
          yield* wait(c[Symbol.asyncDispose]());
          expect(released(c)).toBe(true);
        }));
    });
  });
}

/**
 * Readers of a stream from `open` that are cancelled lose nothing: one parked on an empty
 * stream, and one woken by arriving bytes and cancelled before it ran (the bytes stay
 * buffered for the next read).
 */
function* cancelledReaders(open: () => Operation<[Stream, Stream]>): Operation<void> {
  const [c, s] = yield* open();
  // Parked on an empty stream, then halted.
  const parked = spawn(function* () {
    return yield* c.read();
  });
  yield* until(() => waitingOn(parked.id) === 'net.stream.read', 'the reader to park');
  yield* parked.halt();
  yield* s.write('first');
  expect((yield* c.readExactly(5)).toString()).toBe('first');
  // Woken by arriving bytes, halted before it ran: the bytes stay buffered.
  let woken = false;
  const reader = spawn(function* () {
    yield* c.read();
    woken = true;
  });
  yield* until(() => waitingOn(reader.id) === 'net.stream.read', 'the reader to park');
  let wakeSeen = false;
  // Runs right after the stream's driver has woken the reader, before it steps.
  afterWake(c, () => {
    wakeSeen = true;
    reader.cancel();
  });
  yield* s.write('second');
  yield* until(() => wakeSeen, 'the bytes to wake the reader');
  yield* reader.halt();
  expect(woken).toBe(false);
  yield* s.shutdownWrite();
  expect((yield* readAll(c)).toString()).toBe('second');
  c.close();
  s.close();
}

/**
 * A writer to a peer that does not read: it parks for good once the kernel buffers are
 * full, after at least `minSent` bytes went out; user space holds at most the one parked
 * write on the sender and, on the receiver, the high-water mark plus what was in flight
 * when it paused (a few socket reads: Node 22+ reads up to 64 KiB at a time). Once the
 * reader reads, everything arrives, in full and exactly once.
 */
function* backpressure(
  open: (hwm: number) => Operation<[Stream, Stream]>,
  minSent: number,
  chunkSize = 64 * 1024,
  turnEachWrite = false,
): Operation<void> {
  const hwm = 64 * 1024;
  const [c, s] = yield* open(hwm);
  const chunk = Buffer.alloc(chunkSize, 1);
  // One read gets the server side flowing; from then on it stops reading, so only the
  // high-water-mark pause keeps its buffer bounded.
  yield* c.write('go');
  expect((yield* s.read())!.toString()).toBe('go');
  let sent = 0;
  let stop = false;
  const writer = spawn(function* () {
    while (!stop) {
      yield* c.write(chunk);
      sent += chunk.length;
      expect(c.bufferedWriteBytes).toBe(0); // write() returned: the kernel has every byte
      // Each write then goes out alone, at the end of its turn, so the one that finds the
      // kernel's buffer full is a queued one (native driver).
      if (turnEachWrite) yield* turn();
    }
  });
  yield* untilStuck(() => waitingOn(writer.id) === 'net.stream.write', () => sent, 'the writer to park on a full kernel buffer');
  stop = true;
  const before = sent;
  expect(before).toBeGreaterThanOrEqual(minSent);
  expect(c.bufferedWriteBytes).toBeGreaterThan(0);
  // One write's bytes at most, and the 4 KiB a stream may have had in the write queue.
  expect(c.bufferedWriteBytes).toBeLessThanOrEqual(chunk.length + 4096);
  expect(s.bufferedReadBytes).toBeLessThanOrEqual(hwm + 4 * 64 * 1024);
  let got = 0;
  while (got < before + chunk.length) got += ((yield* s.read()) as Buffer).length;
  yield* writer;
  expect(sent).toBe(before + chunk.length);
  expect(got).toBe(sent);
  yield* c.write('x');
  expect((yield* s.read())!.toString()).toBe('x');
  c.close();
  s.close();
}
