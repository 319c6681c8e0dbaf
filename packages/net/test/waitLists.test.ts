/**
 * Calls that give up (timeout, abort) leave nothing in their socket's wait lists. A
 * server that polls `accept({ timeout })` on an idle listener, or retries timed-out
 * writes to a stuck peer, used to keep one entry per call until the next wake-up.
 *
 * The lists are internal: the test reads them through the listener's and stream's
 * state object, since nothing public can show an entry that no longer parks anyone.
 */
import { describe, it, expect } from 'vitest';
import { runTest, spawn, wait } from '@rioco/core';
import { AbortedError, TimeoutError, listen, type Listener, type Stream } from '@rioco/net';
import { DRIVERS, SteppedClock, catching, pair, turn, until, untilStuck, useDriver, waitingOn } from './helpers.js';

const acceptors = (l: Listener): readonly unknown[] => (l as unknown as { s: { acceptors: unknown[] } }).s.acceptors;
const flushers = (s: Stream): readonly unknown[] => (s as unknown as { s: { flushers: unknown[] } }).s.flushers;

for (const driver of DRIVERS) {
  describe(`${driver} driver: wait lists`, () => {
    useDriver(driver);

    it('accepts that time out (at once or while parked) or are aborted leave no entry behind', () => {
      const clock = new SteppedClock();
      return runTest(
        function* () {
          using l = yield* listen({ host: '127.0.0.1', port: 0 });
          for (let i = 0; i < 100; i++) expect(yield* catching(l.accept({ timeout: 0 }))).toBeInstanceOf(TimeoutError);
          expect(acceptors(l)).toHaveLength(0);
          for (let i = 0; i < 3; i++) {
            const timedOut = spawn(() => catching(l.accept({ timeout: 10 })));
            const ac = new AbortController();
            const aborted = spawn(() => catching(l.accept({ signal: ac.signal })));
            const parked = (t: { id: number }): boolean => waitingOn(t.id) === 'net.listener.accept';
            yield* until(() => parked(timedOut) && parked(aborted) && acceptors(l).length === 2, 'both accepts to park');
            yield* wait(clock.advance(9));
            yield* turn();
            expect(parked(timedOut)).toBe(true); // 1 ms before its deadline: still waiting
            expect(acceptors(l)).toHaveLength(2);
            yield* wait(clock.advance(1));
            expect(yield* timedOut).toBeInstanceOf(TimeoutError);
            expect(acceptors(l)).toHaveLength(1); // only the accept still parked
            expect(parked(aborted)).toBe(true);
            ac.abort();
            expect(yield* aborted).toBeInstanceOf(AbortedError);
            expect(acceptors(l)).toHaveLength(0);
          }
        },
        { clock },
      );
    });

    it('writes that time out on a peer that does not read leave no entry behind', () => {
      const clock = new SteppedClock();
      return runTest(
        function* () {
          const [c, s] = yield* pair();
          const chunk = Buffer.alloc(256 * 1024, 7);
          // Fill the kernel buffers: a writer with no deadline parks for good.
          let sent = 0;
          const writer = spawn(function* () {
            for (;;) {
              yield* c.write(chunk);
              sent += chunk.length;
            }
          });
          yield* untilStuck(() => flushers(c).length === 1, () => sent, 'the writer to park on a full kernel buffer');
          // Timed-out writes behind it: each waits for the queued bytes, then gives up.
          for (let i = 0; i < 5; i++) {
            const w = spawn(() => catching(c.write('x', { timeout: 10 })));
            yield* until(() => waitingOn(w.id) === 'net.stream.write' && flushers(c).length === 2, 'the write to park');
            yield* wait(clock.advance(9));
            yield* turn();
            expect(waitingOn(w.id)).toBe('net.stream.write'); // 1 ms before its deadline: still waiting
            expect(flushers(c)).toHaveLength(2);
            yield* wait(clock.advance(1));
            expect(yield* w).toBeInstanceOf(TimeoutError);
            expect(flushers(c)).toHaveLength(1); // only the parked writer
            expect(waitingOn(writer.id)).toBe('net.stream.write');
          }
          yield* writer.halt();
          expect(flushers(c)).toHaveLength(0);
          c.close();
          s.close();
        },
        { clock },
      );
    });
  });
}
