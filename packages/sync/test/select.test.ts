import { describe, it, expect } from 'vitest';
import { runTest, forEachSeed, spawn, yieldNow, useScheduler, VirtualClock, InvalidArgumentError, type Task } from '@rioco/core';
import { channel, select, onTimeout, onDefault, CLOSED, EMPTY, SendClosedError, type SelectCase } from '@rioco/sync';
import { SEEDS, settle, counts, catchOp, rng } from './helpers.js';

describe('select', () => {
  it('takes the one ready case and leaves the others untouched', () =>
    runTest(function* () {
      const a = channel<number>(1);
      const b = channel<string>(1);
      yield* b.send('hi');
      const r = yield* select(a.onRecv(), b.onRecv());
      expect(r).toEqual({ index: 1, value: 'hi' });
      if (r.index === 1) {
        const s: string | typeof CLOSED = r.value; // typed per case
        expect(s).toBe('hi');
      }
      expect(a.size).toBe(0);
      expect(b.size).toBe(0);
    }));

  it('waits until a case becomes ready, then performs only that case', () =>
    runTest(function* () {
      const a = channel<number>(0);
      const b = channel<number>(0);
      const out = channel<number>(0);
      const sel = spawn(function* () {
        return yield* select(a.onRecv(), b.onRecv(), out.onSend(99));
      });
      yield* settle();
      yield* b.send(2);
      expect(yield* sel).toEqual({ index: 1, value: 2 });
      // The other cases left nothing behind: no receiver waits on a, no sender on out.
      expect(a.trySend(1)).toBe(false);
      expect(out.tryRecv()).toBe(EMPTY);
    }));

  it('a send case completes when a receiver comes', () =>
    runTest(function* () {
      const out = channel<string>(0);
      const never = channel<string>(0);
      const sel = spawn(() => select(never.onRecv(), out.onSend('v')));
      yield* settle();
      expect(yield* out.recv()).toBe('v');
      expect(yield* sel).toEqual({ index: 1, value: undefined });
    }));

  it('two selects meet: one sends, the other receives', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const x = channel<number>(0);
      const s1 = spawn(() => select(ch.onSend(5), x.onRecv()));
      yield* settle();
      // Both cases of the second select are ready (each matches a case of the first):
      // whichever it takes, the first select completes with the matching other half.
      const r2 = yield* select(x.onSend(1), ch.onRecv());
      const r1 = yield* s1;
      if (r2.index === 1) {
        expect(r2.value).toBe(5);
        expect(r1).toEqual({ index: 0, value: undefined });
      } else {
        expect(r1).toEqual({ index: 1, value: 1 });
      }
      expect(ch.tryRecv()).toBe(EMPTY);
      expect(x.tryRecv()).toBe(EMPTY);
    }));

  it('is fair: when several cases are ready, each gets picked', () =>
    runTest(function* () {
      const a = channel<string>(Infinity);
      const b = channel<string>(Infinity);
      const c = channel<string>(Infinity);
      for (let i = 0; i < 300; i++) {
        yield* a.send('a');
        yield* b.send('b');
        yield* c.send('c');
      }
      const picks: string[] = [];
      for (let i = 0; i < 300; i++) {
        const r = yield* select(a.onRecv(), b.onRecv(), c.onRecv());
        picks.push(r.value as string);
      }
      const n = counts(picks);
      for (const k of ['a', 'b', 'c']) expect(n.get(k)).toBeGreaterThanOrEqual(90);
    }));

  it('onDefault is taken at once when nothing is ready', () =>
    runTest(function* () {
      const a = channel<number>(0);
      expect(yield* select(a.onRecv(), onDefault())).toEqual({ index: 1, value: undefined });
      const full = channel<number>(1);
      yield* full.send(1);
      expect((yield* select(full.onSend(2), onDefault())).index).toBe(1);
      expect(full.size).toBe(1);
      const b = channel<number>(1);
      yield* b.send(4);
      expect(yield* select(b.onRecv(), onDefault())).toEqual({ index: 0, value: 4 });
    }));

  it('onTimeout fires on the runtime clock (virtual in tests) and cancels its timer otherwise', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const a = channel<number>(0);
        const t0 = useScheduler().clock.now();
        const r = yield* select(a.onRecv(), onTimeout(5_000), onTimeout(60_000));
        expect(r).toEqual({ index: 1, value: undefined });
        expect(useScheduler().clock.now() - t0).toBe(5_000);
        // Completed by a message: the timer is cancelled (runTest fails on a pending timer).
        const s = spawn(() => a.send(1));
        const r2 = yield* select(a.onRecv(), onTimeout(1_000));
        expect(r2).toEqual({ index: 0, value: 1 });
        yield* s;
        expect(useScheduler().clock.now() - t0).toBe(5_000);
      },
      { clock },
    );
  });

  it('a receive case on a closed channel is ready with CLOSED', () =>
    runTest(function* () {
      const a = channel<number>(0);
      const b = channel<number>(0);
      const sel = spawn(() => select(a.onRecv(), b.onRecv()));
      yield* settle();
      b.close();
      expect(yield* sel).toEqual({ index: 1, value: CLOSED });
      expect(yield* select(b.onRecv(), onDefault())).toEqual({ index: 0, value: CLOSED });
    }));

  it('a send case on a closed channel throws SendClosedError with the value', () =>
    runTest(function* () {
      const a = channel<number>(0);
      a.close();
      const e = yield* catchOp(select(a.onSend(7)));
      expect(e).toBeInstanceOf(SendClosedError);
      expect((e as SendClosedError<number>).intoInner()).toBe(7);
      const b = channel<number>(0);
      const never = channel<number>(0);
      const sel = spawn(() => catchOp(select(never.onRecv(), b.onSend(8))));
      yield* settle();
      b.close();
      const e2 = yield* sel;
      expect(e2).toBeInstanceOf(SendClosedError);
      expect((e2 as SendClosedError<number>).value).toBe(8);
      expect(never.trySend(1)).toBe(false); // its receive case was withdrawn
    }));

  it('cancelled while waiting: takes nothing and sends nothing', () =>
    runTest(function* () {
      const a = channel<number>(0);
      const out = channel<number>(0);
      const sel = spawn(() => select(a.onRecv(), out.onSend(1), onTimeout(10_000)));
      yield* settle();
      yield* sel.halt();
      expect(a.trySend(1)).toBe(false);
      expect(out.tryRecv()).toBe(EMPTY);
    }));

  it('cancelled after a message was handed to it: gives the message back', () =>
    runTest(function* () {
      const a = channel<number>(0);
      const b = channel<number>(0);
      const sel = spawn(() => select(a.onRecv(), b.onRecv()));
      yield* settle();
      expect(b.trySend(42)).toBe(true);
      sel.cancel();
      yield* sel.halt();
      expect(b.tryRecv()).toBe(42);
      expect(a.trySend(1)).toBe(false);
    }));

  it('a select on a channel fed from outside the runtime is not a deadlock', () =>
    runTest(function* () {
      const events = channel<string>(1, { external: true });
      const idle = channel<string>(0);
      const timer = setImmediate(() => events.trySend('tick'));
      const r = yield* select(idle.onRecv(), events.onRecv());
      expect(r).toEqual({ index: 1, value: 'tick' });
      clearImmediate(timer);
    }));

  it('rejects bad cases', () =>
    runTest(function* () {
      const a = channel<number>(0);
      for (const bad of [[], [onDefault(), onDefault()], [null], [{ kind: 'recv', channel: {} }], [{ kind: 'nope' }], [{ kind: 'timeout', ms: -1 }]]) {
        const e = yield* catchOp(select(...(bad as SelectCase[])));
        expect(e, JSON.stringify(bad)).toBeInstanceOf(InvalidArgumentError);
      }
      expect(() => onTimeout(-5)).toThrow(InvalidArgumentError);
      expect(() => onTimeout(NaN)).toThrow(InvalidArgumentError);
      expect(a.size).toBe(0);
    }));
});

describe('select under the seeded scheduler', () => {
  it('fan-in and fan-out through selects: exactly once, nothing left behind', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const caps = [0, 1, 2];
        const x = channel<number>(caps[pick(3)]);
        const y = channel<number>(caps[pick(3)]);
        const quit = channel<void>(0);
        const N = 8;
        // Two producers offer each value to whichever channel is ready first.
        const producers: Task<void>[] = [];
        for (let p = 0; p < 2; p++) {
          producers.push(
            spawn(function* () {
              for (let i = 0; i < N; i++) yield* select(x.onSend(p * 100 + i), y.onSend(p * 100 + i));
            }),
          );
        }
        const got: number[] = [];
        const consumers: Task<void>[] = [];
        for (let c = 0; c < 2; c++) {
          consumers.push(
            spawn(function* () {
              for (;;) {
                const r = yield* select(x.onRecv(), y.onRecv(), quit.onRecv());
                if (r.index === 2 || r.value === CLOSED) return;
                got.push(r.value);
              }
            }),
          );
        }
        for (const t of producers) yield* t;
        quit.close();
        for (const t of consumers) yield* t;
        for (const ch of [x, y]) {
          for (let v = ch.tryRecv(); v !== EMPTY && v !== CLOSED; v = ch.tryRecv()) got.push(v);
        }
        expect(got.length).toBe(2 * N);
        expect(new Set(got).size).toBe(2 * N);
      },
    ));

  it('a select with a timeout racing a sender: one outcome, never both', () =>
    forEachSeed(
      SEEDS,
      (seed) =>
        function* () {
          const ch = channel<number>(seed % 2);
          const sender = spawn(function* () {
            for (let i = seed % 5; i > 0; i--) yield* yieldNow();
            return yield* select(ch.onSend(1), onTimeout(3));
          });
          const r = yield* select(ch.onRecv(), onTimeout(3));
          const s = yield* sender;
          const left = ch.tryRecv();
          // The value went through select, or stayed in the buffer, or was never sent.
          const delivered = (r.index === 0 ? 1 : 0) + (left === 1 ? 1 : 0);
          expect(delivered).toBe(s.index === 0 ? 1 : 0);
        },
      { clock: new VirtualClock() },
    ));
});
