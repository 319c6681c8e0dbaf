import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  run,
  runTest,
  forEachSeed,
  spawn,
  yieldNow,
  wait,
  DeadlockError,
  InvalidArgumentError,
  RiocoError,
  type Operation,
  type Task,
} from '@rioco/core';
import { channel, CLOSED, EMPTY, ChannelClosedError, SendClosedError, type Channel } from '@rioco/sync';
import { SEEDS, MODEL_RUNS, settle, rng, counts, catchOp } from './helpers.js';

function* drain<T>(ch: Channel<T>): Operation<T[]> {
  const out: T[] = [];
  for (;;) {
    const v = yield* ch.recvOrClosed();
    if (v === CLOSED) return out;
    out.push(v);
  }
}

describe('channel basics', () => {
  it('bounded: buffers up to capacity, then the sender waits for a receiver', () =>
    runTest(function* () {
      const ch = channel<number>(2);
      yield* ch.send(1);
      yield* ch.send(2);
      expect(ch.size).toBe(2);
      let sent = false;
      const s = spawn(function* () {
        yield* ch.send(3);
        sent = true;
      });
      yield* settle();
      expect(sent).toBe(false);
      expect(yield* ch.recv()).toBe(1);
      yield* s;
      expect(sent).toBe(true);
      expect(yield* ch.recv()).toBe(2);
      expect(yield* ch.recv()).toBe(3);
      expect(ch.size).toBe(0);
    }));

  it('rendezvous: a send completes only when a receiver has the value', () =>
    runTest(function* () {
      const ch = channel<string>(0);
      const log: string[] = [];
      const s = spawn(function* () {
        yield* ch.send('x');
        log.push('sent');
      });
      yield* settle();
      expect(log).toEqual([]);
      expect(ch.size).toBe(0);
      log.push(`got ${yield* ch.recv()}`);
      yield* s;
      expect(log).toEqual(['got x', 'sent']);
      expect(ch.capacity).toBe(0);
      expect(ch.trySend('y')).toBe(false); // nobody waiting
    }));

  it('unbounded: sends never wait', () =>
    runTest(function* () {
      const ch = channel<number>(Infinity);
      for (let i = 0; i < 10_000; i++) yield* ch.send(i);
      expect(ch.size).toBe(10_000);
      expect(ch.capacity).toBe(Infinity);
      for (let i = 0; i < 10_000; i++) expect(yield* ch.recv()).toBe(i);
    }));

  it('receivers wait, first come first served, and get values in send order', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const got: string[] = [];
      const rs: Task<void>[] = [];
      for (const name of ['a', 'b', 'c']) {
        rs.push(
          spawn(function* () {
            got.push(`${name}${yield* ch.recv()}`);
          }),
        );
        yield* settle(2);
      }
      for (let i = 1; i <= 3; i++) yield* ch.send(i);
      for (const r of rs) yield* r;
      expect(got).toEqual(['a1', 'b2', 'c3']);
    }));

  it('waiting senders are served first come first served', () =>
    runTest(function* () {
      const ch = channel<string>(1);
      yield* ch.send('first');
      for (const v of ['s1', 's2', 's3']) {
        spawn(function* () {
          yield* ch.send(v);
        });
        yield* settle(2);
      }
      const got: string[] = [];
      for (let i = 0; i < 4; i++) got.push(yield* ch.recv());
      expect(got).toEqual(['first', 's1', 's2', 's3']);
    }));

  it('trySend / tryRecv work without waiting, also outside fibers', async () => {
    const ch = channel<number>(1);
    expect(ch.tryRecv()).toBe(EMPTY);
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(false);
    expect(ch.tryRecv()).toBe(1);
    ch.close();
    expect(ch.tryRecv()).toBe(CLOSED);
    expect(() => ch.trySend(3)).toThrow(SendClosedError);
    await runTest(function* () {
      const c2 = channel<number>(0);
      const r = spawn(function* () {
        return yield* c2.recv();
      });
      yield* settle();
      expect(c2.trySend(7)).toBe(true); // handed to the waiting receiver
      expect(yield* r).toBe(7);
    });
  });

  it('recvMany takes what is buffered, up to max, after waiting for the first', () =>
    runTest(function* () {
      const ch = channel<number>(8);
      for (let i = 0; i < 5; i++) yield* ch.send(i);
      expect(yield* ch.recvMany(3)).toEqual([0, 1, 2]);
      const sum: number[] = [];
      for (const v of yield* ch.recvMany(10)) sum.push(v);
      expect(sum).toEqual([3, 4]);
      const r = spawn(function* () {
        return yield* ch.recvMany(4);
      });
      yield* settle();
      yield* ch.send(9);
      expect(yield* r).toEqual([9]);
      ch.close();
      expect(yield* ch.recvMany(4)).toEqual([]);
    }));

  it('a channel is disposable (closes) and has a readable name', () =>
    runTest(function* () {
      let ch: Channel<number> | undefined;
      {
        using c = channel<number>(1, { name: 'jobs' });
        ch = c;
        expect(c.closed).toBe(false);
        expect(c.name).toBe('jobs');
        expect(String(c)).toBe('Channel(jobs)');
      }
      expect(ch.closed).toBe(true);
    }));
});

describe('close', () => {
  it('receivers drain the buffer, then see the channel closed', () =>
    runTest(function* () {
      const ch = channel<number>(3);
      yield* ch.send(1);
      yield* ch.send(2);
      expect(ch.close()).toBe(true);
      expect(ch.close()).toBe(false);
      expect(ch.closed).toBe(true);
      expect(yield* ch.recv()).toBe(1);
      expect(yield* ch.recvOrClosed()).toBe(2);
      expect(yield* ch.recvOrClosed()).toBe(CLOSED);
      const err = yield* catchOp(ch.recv());
      expect(err).toBeInstanceOf(ChannelClosedError);
      expect((err as RiocoError).code).toBe('CHANNEL_CLOSED');
    }));

  it('a send on a closed channel fails and gives the value back', () =>
    runTest(function* () {
      const ch = channel<{ id: number }>(1);
      ch.close();
      const job = { id: 7 };
      const err = yield* catchOp(ch.send(job));
      expect(err).toBeInstanceOf(SendClosedError);
      expect(err).toBeInstanceOf(ChannelClosedError);
      expect((err as SendClosedError<{ id: number }>).intoInner()).toBe(job);
      expect((err as RiocoError).code).toBe('CHANNEL_CLOSED');
      expect(ch.size).toBe(0);
    }));

  it('parked receivers wake with closed; parked senders fail with their value', () =>
    runTest(function* () {
      const empty = channel<number>(0, { name: 'empty' });
      const r1 = spawn(() => catchOp(empty.recv()));
      const r2 = spawn(() => empty.recvOrClosed());
      const full = channel<number>(1);
      yield* full.send(1);
      const s = spawn(() => catchOp(full.send(2)));
      yield* settle();
      empty.close();
      full.close();
      const e1 = yield* r1;
      expect(e1).toBeInstanceOf(ChannelClosedError);
      expect((e1 as Error).message).toContain('"empty"');
      expect(yield* r2).toBe(CLOSED);
      const e2 = yield* s;
      expect(e2).toBeInstanceOf(SendClosedError);
      expect((e2 as SendClosedError<number>).value).toBe(2);
      expect(yield* drain(full)).toEqual([1]);
    }));
});

describe('cancellation', () => {
  it('a receiver cancelled while waiting takes nothing', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const r = spawn(() => ch.recv());
      yield* settle();
      yield* r.halt();
      expect(ch.trySend(1)).toBe(false); // nobody is waiting any more
      const s = spawn(() => ch.send(2));
      yield* settle();
      expect(yield* ch.recv()).toBe(2);
      yield* s;
    }));

  it('a receiver cancelled after a message was handed to it gives it back, first in line', () =>
    runTest(function* () {
      for (const cap of [0, 1, 4]) {
        const ch = channel<number>(cap);
        const r = spawn(() => ch.recv());
        yield* settle();
        expect(ch.trySend(1)).toBe(true); // handed to r, which has not run yet
        r.cancel();
        yield* r.halt();
        // Given back at the head: it counts toward the capacity again.
        expect(ch.trySend(2)).toBe(cap > 1);
        expect(ch.tryRecv()).toBe(1);
        if (cap > 1) expect(ch.tryRecv()).toBe(2);
        expect(ch.tryRecv()).toBe(EMPTY);
      }
    }));

  it('a message given back goes ahead of messages sent after it', () =>
    runTest(function* () {
      const ch = channel<number>(3);
      const r = spawn(() => ch.recv());
      yield* settle();
      expect(ch.trySend(1)).toBe(true); // handed to r
      expect(ch.trySend(2)).toBe(true); // buffered behind it
      r.cancel();
      yield* r.halt();
      expect(yield* ch.recvMany(5)).toEqual([1, 2]);
    }));

  it('a message given back goes to the next waiting receiver', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const r1 = spawn(() => ch.recv());
      yield* settle(2);
      const r2 = spawn(() => ch.recv());
      yield* settle();
      expect(ch.trySend(5)).toBe(true); // to r1
      r1.cancel();
      expect(yield* r2).toBe(5);
      yield* r1.halt();
    }));

  it('a recvOrClosed / recvMany / select cancelled after the handoff gives the message back too', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const ops: (() => Operation<unknown>)[] = [() => ch.recvOrClosed(), () => ch.recvMany(3)];
      for (const op of ops) {
        const r = spawn(op);
        yield* settle();
        expect(ch.trySend(9)).toBe(true);
        yield* r.halt();
        expect(ch.tryRecv()).toBe(9);
      }
    }));

  it('a sender cancelled while waiting leaves nothing half-sent', () =>
    runTest(function* () {
      for (const cap of [0, 1]) {
        const ch = channel<number>(cap);
        if (cap === 1) yield* ch.send(0);
        const s = spawn(() => ch.send(42));
        yield* settle();
        yield* s.halt();
        if (cap === 1) expect(ch.tryRecv()).toBe(0);
        expect(ch.tryRecv()).toBe(EMPTY);
        expect(ch.size).toBe(0);
      }
    }));

  it('a send started by a fiber already cancelled does nothing, and later sends still work', () =>
    runTest(function* () {
      for (const cap of [0, 1]) {
        const ch = channel<number>(cap);
        if (cap === 1) yield* ch.send(0);
        let ran = false;
        const self: Task<void> = spawn(function* () {
          self.cancel(); // delivered at the send's park, before it registers
          try {
            yield* ch.send(42);
          } finally {
            ran = true;
          }
        });
        yield* settle();
        expect(ran).toBe(true);
        yield* self.halt();
        if (cap === 1) expect(ch.tryRecv()).toBe(0);
        expect(ch.tryRecv()).toBe(EMPTY);
        const later = spawn(() => ch.send(7));
        expect(yield* ch.recv()).toBe(7);
        yield* later;
        expect(ch.tryRecv()).toBe(EMPTY);
      }
    }));

  it('a sender cancelled after its value was taken: received exactly once', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const s = spawn(() => ch.send(42));
      yield* settle();
      expect(ch.tryRecv()).toBe(42);
      s.cancel();
      yield* s.halt();
      expect(ch.tryRecv()).toBe(EMPTY);
    }));
});

describe('outside fibers', () => {
  it('for await receives until the channel is closed', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const consumer = (async () => {
        const out: number[] = [];
        for await (const v of ch) out.push(v);
        return out;
      })();
      for (let i = 0; i < 5; i++) yield* ch.send(i); // the outside consumer counts as a wake source
      ch.close();
      expect(yield* wait(consumer)).toEqual([0, 1, 2, 3, 4]);
    }));

  it('waits made between fibers first count as external once an outside iterator is open', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      // A send and a receive that park between fibers, before anything outside listens.
      const rx = spawn(function* () {
        return yield* ch.recv();
      });
      yield* ch.send(-1);
      expect(yield* rx).toBe(-1);
      const tx = spawn(function* () {
        yield* ch.send(-2);
      });
      expect(yield* ch.recv()).toBe(-2);
      yield* tx;
      // Now the only receiver is outside: a parked send waits on the outside world, which
      // is no deadlock.
      const consumer = (async () => {
        const out: number[] = [];
        for await (const v of ch) out.push(v);
        return out;
      })();
      for (let i = 0; i < 3; i++) yield* ch.send(i);
      ch.close();
      expect(yield* wait(consumer)).toEqual([0, 1, 2]);
    }));

  it('breaking out of for await leaves the remaining messages in the channel', () =>
    runTest(function* () {
      const ch = channel<number>(4);
      for (let i = 0; i < 4; i++) yield* ch.send(i);
      const first = yield* wait(
        (async () => {
          for await (const v of ch) return v;
          return -1;
        })(),
      );
      expect(first).toBe(0);
      expect(yield* ch.recvMany(10)).toEqual([1, 2, 3]);
    }));

  it('an external channel fed from a callback is not a deadlock', () =>
    runTest(function* () {
      const ch = channel<number>(1, { external: true });
      const feed = (i: number): void => {
        setImmediate(() => {
          if (i < 3) {
            ch.trySend(i);
            feed(i + 1);
          } else ch.close();
        });
      };
      feed(0);
      expect(yield* drain(ch)).toEqual([0, 1, 2]);
    }));

  it('blocking operations outside a fiber fail with NO_CURRENT_FIBER', () => {
    const ch = channel<number>(1);
    const it = (function* () {
      return yield* ch.recv();
    })();
    expect(() => it.next()).toThrow(expect.objectContaining({ code: 'NO_CURRENT_FIBER' }) as Error);
  });
});

describe('bad input', () => {
  it('rejects a capacity that is negative, fractional or not a number', () => {
    for (const bad of [-1, 1.5, NaN, -Infinity, '3', null]) {
      expect(() => channel(bad as number)).toThrow(InvalidArgumentError);
      expect(() => channel(bad as number)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    }
    expect(() => channel(1, 'x' as never)).toThrow(InvalidArgumentError);
    expect(() => channel(1, { name: 3 as never })).toThrow(InvalidArgumentError);
    expect(() => channel(1, { external: 'yes' as never })).toThrow(/"external" must be a boolean/);
    expect(channel().capacity).toBe(0);
  });

  it('rejects recvMany(max) unless max is an integer >= 1', () => {
    const ch = channel<number>(1);
    for (const bad of [0, -1, 1.5, NaN]) expect(() => ch.recvMany(bad)).toThrow(InvalidArgumentError);
  });

  it('a send operation is a recipe: run twice at once it sends twice, and again once finished', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const op = ch.send(1);
      const s1 = spawn(() => op);
      const s2 = spawn(() => op);
      yield* settle();
      expect(ch.tryRecv()).toBe(1);
      expect(ch.tryRecv()).toBe(1);
      expect(ch.tryRecv()).toBe(EMPTY);
      yield* s1;
      yield* s2;
      const again = spawn(() => op);
      expect(yield* ch.recv()).toBe(1);
      yield* again;
      // A cancelled parked send gives its record back: the next send still works.
      const cancelled = spawn(() => ch.send(2));
      yield* settle();
      yield* cancelled.halt();
      expect(ch.tryRecv()).toBe(EMPTY);
      const later = spawn(() => ch.send(3));
      expect(yield* ch.recv()).toBe(3);
      yield* later;
    }));
});

describe('receive records', () => {
  it('a record freed by one receive serves the next: cancelled, handed-then-cancelled, recv then recvOrClosed', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      // Cancelled while parked: its record goes back to the channel, the message is not lost.
      const cancelled = spawn(() => ch.recv());
      yield* settle();
      yield* cancelled.halt();
      const s1 = spawn(() => ch.send(1));
      expect(yield* ch.recv()).toBe(1);
      yield* s1;
      // Handed a message, then cancelled before it ran: the message goes back to the head.
      const handed = spawn(() => ch.recv());
      yield* settle();
      expect(ch.trySend(2)).toBe(true);
      yield* handed.halt();
      const s3 = spawn(() => ch.send(3));
      expect(yield* ch.recv()).toBe(2);
      expect(yield* ch.recv()).toBe(3);
      yield* s3;
      // A recvOrClosed parked on a reused record still returns CLOSED (not a throw), and a
      // recv parked next to it still throws.
      const orClosed = spawn(() => ch.recvOrClosed());
      const plain = spawn(() => catchOp(ch.recv()));
      yield* settle();
      ch.close();
      expect(yield* orClosed).toBe(CLOSED);
      expect(yield* plain).toBeInstanceOf(ChannelClosedError);
    }));

  it('two receivers parked at once each get their own message, in order, over many rounds', () =>
    runTest(function* () {
      const ch = channel<number>(0);
      const got: number[][] = [[], []];
      const receivers = [0, 1].map((k) =>
        spawn(function* () {
          for (let i = 0; i < 100; i++) got[k].push(yield* ch.recv());
        }),
      );
      for (let i = 0; i < 200; i++) {
        yield* settle();
        yield* ch.send(i);
      }
      for (const r of receivers) yield* r;
      // First come, first served: the receivers take turns.
      expect(got[0]).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i));
      expect(got[1]).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + 1));
    }));
});

describe('deadlock report', () => {
  it('two fibers each waiting on the other: DeadlockError names both and their waits', async () => {
    const err = await run(function* () {
      const toAlice = channel<number>(0, { name: 'to-alice' });
      const toBob = channel<number>(0, { name: 'to-bob' });
      const a = spawn(
        function* () {
          yield* toAlice.recv();
          yield* toBob.send(1);
        },
        { name: 'alice' },
      );
      const b = spawn(
        function* () {
          yield* toBob.recv();
          yield* toAlice.send(1);
        },
        { name: 'bob' },
      );
      yield* a;
      yield* b;
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlockError);
    const fibers = (err as DeadlockError).fibers;
    expect(fibers).toContainEqual(expect.objectContaining({ name: 'alice', waitingOn: 'channel.recv (to-alice)' }));
    expect(fibers).toContainEqual(expect.objectContaining({ name: 'bob', waitingOn: 'channel.recv (to-bob)' }));
    expect((err as Error).message).toContain('alice');
    expect((err as Error).message).toContain('bob');
  });

  it('a sender with no receiver is reported with its wait reason', async () => {
    const err = await run(function* () {
      const ch = channel<number>(0);
      yield* ch.send(1);
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlockError);
    expect((err as DeadlockError).fibers[0].waitingOn).toBe('channel.send (Channel)');
  });
});

describe('fairness budget', () => {
  it('a fiber on an always-ready channel still lets others run', () =>
    runTest(function* () {
      const ch = channel<number>(1);
      let ticks = 0;
      let stop = false;
      const other = spawn(function* () {
        while (!stop) {
          ticks++;
          yield* yieldNow();
        }
      });
      for (let i = 0; i < 5_000; i++) {
        yield* ch.send(i);
        yield* ch.recv();
      }
      const seen = ticks;
      stop = true;
      yield* other;
      expect(seen).toBeGreaterThan(10);
    }));
});

// ---- many interleavings -----------------------------------------------------------------

const CAPS = [0, 1, 3, Infinity];

describe('under the seeded scheduler', () => {
  it('MPMC: every message received exactly once, in order per producer and consumer', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const ch = channel<string>(CAPS[seed % CAPS.length]);
        const P = 3;
        const K = 6;
        const producers: Task<void>[] = [];
        for (let p = 0; p < P; p++) {
          producers.push(
            spawn(function* () {
              for (let k = 0; k < K; k++) yield* ch.send(`${p}:${k}`);
            }),
          );
        }
        const consumers: Task<string[]>[] = [];
        for (let c = 0; c < 3; c++) consumers.push(spawn(() => drain(ch)));
        for (const t of producers) yield* t;
        ch.close();
        const all: string[] = [];
        for (const t of consumers) {
          const got = yield* t;
          all.push(...got);
          // FIFO: each consumer sees each producer's messages in send order.
          for (let p = 0; p < P; p++) {
            const seq = got.filter((m) => m.startsWith(`${p}:`)).map((m) => Number(m.split(':')[1]));
            expect(seq).toEqual([...seq].sort((a, b) => a - b));
          }
        }
        expect(all.length).toBe(P * K);
        expect(new Set(all).size).toBe(P * K);
      },
    ));

  it('one consumer sees the global send order of each producer, and waiting senders in FIFO', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const ch = channel<number>(CAPS[seed % CAPS.length]);
        const s = spawn(function* () {
          for (let i = 0; i < 20; i++) yield* ch.send(i);
          ch.close();
        });
        expect(yield* drain(ch)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        yield* s;
      },
    ));

  it('with random cancellations: nothing lost, nothing duplicated, nothing leaked', () =>
    forEachSeed(SEEDS, (seed) => () => randomCancellations(seed)));
});

describe('under the default scheduler', () => {
  it('with random cancellations (fast paths, direct parks) (fast paths, direct parks): the same', () =>
    run(function* () {
      for (let seed = 0; seed < SEEDS; seed++) yield* randomCancellations(seed);
    }));
});


// ---- model-based ----------------------------------------------------------------------

type ChanCmd =
  | { t: 'spawnSend'; v: number }
  | { t: 'spawnRecv' }
  | { t: 'trySend'; v: number }
  | { t: 'tryRecv' }
  | { t: 'cancel'; k: number }
  | { t: 'handoffCancel'; v: number }
  | { t: 'close' };

const chanCmd: fc.Arbitrary<ChanCmd> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 999 }).map((v) => ({ t: 'spawnSend' as const, v })) },
  { weight: 4, arbitrary: fc.constant({ t: 'spawnRecv' as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 999 }).map((v) => ({ t: 'trySend' as const, v })) },
  { weight: 2, arbitrary: fc.constant({ t: 'tryRecv' as const }) },
  { weight: 2, arbitrary: fc.nat(20).map((k) => ({ t: 'cancel' as const, k })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 999 }).map((v) => ({ t: 'handoffCancel' as const, v })) },
  { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
);

/** The reference: what a channel of capacity `cap` must do, written as plainly as possible. */
class ChanModel {
  buf: number[] = [];
  senders: { id: number; v: number }[] = [];
  receivers: number[] = [];
  closed = false;
  /** Outcome per fiber id: a received value, 'closed', 'sent', 'refused:<v>', 'cancelled'. */
  out = new Map<number, string>();
  constructor(readonly cap: number) {}
  deliver(id: number, v: number): void {
    this.out.set(id, `got ${v}`);
  }
  /** A send by fiber `id` (-1: the test itself, whose outcome is checked directly). */
  send(id: number, v: number): void {
    const done = (o: string): void => {
      if (id >= 0) this.out.set(id, o);
    };
    if (this.closed) done(`refused ${v}`);
    else if (this.receivers.length > 0) {
      this.deliver(this.receivers.shift()!, v);
      done('sent');
    } else if (this.buf.length < this.cap) {
      this.buf.push(v);
      done('sent');
    } else this.senders.push({ id, v });
  }
  /** A receive now: a value, 'empty' or 'closed'. */
  take(): number | 'empty' | 'closed' {
    if (this.buf.length > 0) {
      const v = this.buf.shift()!;
      if (this.senders.length > 0 && this.buf.length < this.cap) {
        const s = this.senders.shift()!;
        this.buf.push(s.v);
        this.out.set(s.id, 'sent');
      }
      return v;
    }
    if (this.senders.length > 0) {
      const s = this.senders.shift()!;
      this.out.set(s.id, 'sent');
      return s.v;
    }
    return this.closed ? 'closed' : 'empty';
  }
  recv(id: number): void {
    const v = this.take();
    if (v === 'closed') this.out.set(id, 'closed');
    else if (v !== 'empty') this.deliver(id, v);
    else this.receivers.push(id);
  }
  trySend(v: number): string {
    if (this.closed) return 'refused';
    if (this.receivers.length > 0 || this.buf.length < this.cap) {
      this.send(-1, v);
      return 'true';
    }
    return 'false';
  }
  cancel(id: number): void {
    const si = this.senders.findIndex((s) => s.id === id);
    if (si >= 0) {
      this.senders.splice(si, 1);
      this.out.set(id, 'cancelled');
    }
    const ri = this.receivers.indexOf(id);
    if (ri >= 0) {
      this.receivers.splice(ri, 1);
      this.out.set(id, 'cancelled');
    }
  }
  /** A receiver handed `v` is cancelled before it runs: the value goes back first in line. */
  giveBack(v: number): void {
    if (this.receivers.length > 0) this.deliver(this.receivers.shift()!, v);
    else this.buf.unshift(v);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.receivers.splice(0)) this.out.set(r, 'closed');
    for (const s of this.senders.splice(0)) this.out.set(s.id, `refused ${s.v}`);
  }
}

describe('model-based (fast-check)', () => {
  it('matches the reference model for every capacity', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 2, Infinity), fc.array(chanCmd, { maxLength: 40 }), async (cap, cmds) => {
        await runTest(function* () {
          const ch = channel<number>(cap);
          const model = new ChanModel(cap);
          const out = new Map<number, string>();
          const tasks: Task<void>[] = [];
          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'spawnSend': {
                const id = tasks.length;
                tasks.push(
                  spawn(function* () {
                    try {
                      yield* ch.send(cmd.v);
                      out.set(id, 'sent');
                    } catch (e) {
                      out.set(id, `refused ${(e as SendClosedError<number>).intoInner()}`);
                    } finally {
                      if (!out.has(id)) out.set(id, 'cancelled');
                    }
                  }),
                );
                model.send(id, cmd.v);
                break;
              }
              case 'spawnRecv': {
                const id = tasks.length;
                tasks.push(
                  spawn(function* () {
                    try {
                      const v = yield* ch.recvOrClosed();
                      out.set(id, v === CLOSED ? 'closed' : `got ${v}`);
                    } finally {
                      if (!out.has(id)) out.set(id, 'cancelled');
                    }
                  }),
                );
                model.recv(id);
                break;
              }
              case 'trySend': {
                let r: string;
                try {
                  r = String(ch.trySend(cmd.v));
                } catch {
                  r = 'refused';
                }
                expect(r).toBe(model.trySend(cmd.v));
                break;
              }
              case 'tryRecv': {
                const v = ch.tryRecv();
                const m = model.take();
                expect(v === CLOSED ? 'closed' : v === EMPTY ? 'empty' : v).toBe(m);
                break;
              }
              case 'cancel': {
                const t = tasks[cmd.k];
                if (t === undefined || t.done) break;
                t.cancel();
                model.cancel(cmd.k);
                break;
              }
              case 'handoffCancel': {
                // Hand a value to the first waiting receiver and cancel it before it runs.
                if (model.closed || model.receivers.length === 0) break;
                const id = model.receivers[0];
                expect(ch.trySend(cmd.v)).toBe(true);
                tasks[id].cancel();
                model.receivers.shift();
                model.out.set(id, 'cancelled');
                model.giveBack(cmd.v);
                break;
              }
              case 'close':
                ch.close();
                model.close();
                break;
            }
            yield* settle();
            expect(ch.size).toBe(model.buf.length);
            for (const [id, o] of model.out) expect(out.get(id), `fiber ${id}`).toBe(o);
          }
          ch.close();
          model.close();
          yield* settle();
          for (const t of tasks) yield* t.halt();
          for (const [id, o] of model.out) expect(out.get(id), `fiber ${id}`).toBe(o);
          expect(out.size).toBe(model.out.size);
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});

/** Producers and consumers, one of each cancelled at a random moment (by `seed`). */
function* randomCancellations(seed: number): Operation<void> {
  const pick = rng(seed);
  const ch = channel<number>(CAPS[seed % CAPS.length]);
  const attempted = new Set<number>();
  const confirmed = new Set<number>();
  const received: number[] = [];
  const P = 3;
  const K = 5;
  const producers: Task<void>[] = [];
  for (let p = 0; p < P; p++) {
    producers.push(
      spawn(function* () {
        for (let k = 0; k < K; k++) {
          const v = p * 100 + k;
          attempted.add(v);
          yield* ch.send(v);
          confirmed.add(v);
        }
      }),
    );
  }
  const consumers: Task<void>[] = [];
  for (let c = 0; c < 3; c++) {
    consumers.push(
      spawn(function* () {
        for (;;) {
          const v = yield* ch.recvOrClosed();
          if (v === CLOSED) return;
          received.push(v);
        }
      }),
    );
  }
  // A killer cancels one producer and one consumer at random moments.
  const killer = spawn(function* () {
    for (let i = pick(12); i > 0; i--) yield* yieldNow();
    producers[pick(P)].cancel();
    for (let i = pick(12); i > 0; i--) yield* yieldNow();
    consumers[pick(3)].cancel();
  });
  yield* killer;
  for (const t of producers) yield* t.halt();
  ch.close();
  for (const t of consumers) yield* t.halt();
  // What the surviving consumers did not take is still in the channel.
  for (;;) {
    const v = ch.tryRecv();
    if (v === CLOSED || v === EMPTY) break;
    received.push(v);
  }
  for (const [v, n] of counts(received)) {
    expect(n, `message ${v} received ${n} times`).toBe(1);
    expect(attempted.has(v)).toBe(true);
  }
  for (const v of confirmed) expect(received).toContain(v);
}
