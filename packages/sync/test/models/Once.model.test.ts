/**
 * Model-based test of Once (fast-check).
 *
 * Every fiber calls `once.getOrInit(init)` with an initializer of its own, which the
 * test finishes with a value, fails, or cancels. The reference model is the cell state
 * (empty / running / set), the fiber whose initializer runs, and a FIFO of callers
 * waiting for it:
 * - a caller finding the cell set gets the value without running its init; finding it
 *   empty, it runs its init; finding it running, it waits;
 * - an init that returns sets the value once, for its caller and every waiter;
 * - an init that throws gives the error to its caller only; an init whose fiber is
 *   cancelled, or one that is not an operation (InvalidArgumentError to its caller),
 *   likewise ends that caller's turn; the turn then passes to the longest waiter (its
 *   own init runs), or the cell goes back to empty;
 * - a waiter cancelled while waiting leaves nothing behind; one cancelled after it was
 *   given the turn, before it ran, passes the turn on.
 *
 * Commands: spawn a caller (with a normal init, or one that returns a non-operation),
 * finish the running init with a value, fail it, fail it and have the failing caller
 * cancel the waiter that was just handed the turn, cancel a live caller.
 *
 * Checked after every step: `isSet`, `value`, `holder`, the order in which inits
 * started (so: only the holder ever runs an init, exactly one init succeeds), and
 * every caller's outcome (its value, its own error, or cancelled).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTest, spawn, InvalidArgumentError, type Operation, type Task } from '@rioco/core';
import { Once } from '@rioco/sync';
import { MODEL_RUNS, Gate, settle } from '../helpers.js';

type Kind = 'op' | 'bad';
type Cmd =
  | { t: 'spawn'; kind: Kind }
  | { t: 'finish'; v: number }
  | { t: 'fail' }
  | { t: 'failCancelNext' }
  | { t: 'cancel'; i: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ t: 'spawn' as const, kind: 'op' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'spawn' as const, kind: 'bad' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }).map((v) => ({ t: 'finish' as const, v })) },
  { weight: 2, arbitrary: fc.constant({ t: 'fail' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'failCancelNext' as const }) },
  { weight: 2, arbitrary: fc.nat(15).map((i) => ({ t: 'cancel' as const, i })) },
);

class InitError extends Error {
  constructor(readonly k: number) {
    super(`init of fiber ${k} failed`);
  }
}

class OnceModel {
  state: 'empty' | 'running' | 'set' = 'empty';
  value: number | undefined = undefined;
  holder: number | undefined = undefined;
  queue: number[] = [];
  kind: Kind[] = [];
  started: number[] = [];
  /** Per fiber: 'pending', 'value <v>', 'error <k>', 'invalid' or 'cancelled'. */
  out: string[] = [];

  /** Fiber `k` takes the turn: a bad init fails at once and passes it on. */
  private take(k: number): void {
    this.started.push(k);
    if (this.kind[k] === 'bad') {
      this.out[k] = 'invalid';
      this.passTurn();
    } else {
      this.state = 'running';
      this.holder = k;
    }
  }
  passTurn(): void {
    this.state = 'empty';
    this.holder = undefined;
    const next = this.queue.shift();
    if (next !== undefined) this.take(next);
  }
  call(kind: Kind): number {
    const k = this.out.length;
    this.kind.push(kind);
    this.out.push('pending');
    if (this.state === 'set') this.out[k] = `value ${this.value}`;
    else if (this.state === 'running') this.queue.push(k);
    else this.take(k);
    return k;
  }
  finish(v: number): void {
    this.state = 'set';
    this.value = v;
    for (const k of [this.holder!, ...this.queue.splice(0)]) this.out[k] = `value ${v}`;
    this.holder = undefined;
  }
  /** The running init throws; with `cancelNext`, the waiter handed the turn dies before it runs. */
  fail(cancelNext: boolean): void {
    this.out[this.holder!] = `error ${this.holder}`;
    const next = cancelNext ? this.queue.shift() : undefined;
    if (next !== undefined) this.out[next] = 'cancelled';
    this.passTurn();
  }
  cancel(k: number): void {
    this.out[k] = 'cancelled';
    if (this.holder === k) this.passTurn();
    else this.queue = this.queue.filter((x) => x !== k);
  }
}

describe('Once model-based (fast-check)', () => {
  it('one successful init, turns passed on failure and cancellation, match a reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { maxLength: 50, size: 'max' }), async (cmds) => {
        await runTest(function* () {
          const once = new Once<number>();
          const model = new OnceModel();
          const tasks: Task<void>[] = [];
          const index = new Map<number, number>(); // fiber id -> index
          const gates: Gate[] = [];
          const plans: ({ ok: number } | 'fail')[] = [];
          const onError: (() => void)[] = [];
          const started: number[] = [];
          const out: string[] = [];

          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'spawn': {
                const k = model.call(cmd.kind);
                gates.push(new Gate());
                out.push('pending');
                const init =
                  cmd.kind === 'bad'
                    ? (): Operation<number> => {
                        started.push(k);
                        return 42 as unknown as Operation<number>; // not an operation
                      }
                    : function* (): Operation<number> {
                        started.push(k);
                        yield* gates[k].wait();
                        const plan = plans[k];
                        if (plan === 'fail') throw new InitError(k);
                        return plan.ok;
                      };
                const t = spawn(function* () {
                  try {
                    const v = yield* once.getOrInit(init);
                    out[k] = `value ${v}`;
                  } catch (e) {
                    if (e instanceof InitError) out[k] = `error ${e.k}`;
                    else if (e instanceof InvalidArgumentError) out[k] = 'invalid';
                    else out[k] = `unexpected ${String(e)}`;
                    onError[k]?.();
                  } finally {
                    if (out[k] === 'pending') out[k] = 'cancelled';
                  }
                });
                tasks.push(t);
                index.set(t.id, k);
                break;
              }
              case 'finish': {
                const h = model.holder;
                if (h === undefined) break;
                plans[h] = { ok: cmd.v };
                gates[h].open();
                model.finish(cmd.v);
                break;
              }
              case 'fail':
              case 'failCancelNext': {
                const h = model.holder;
                if (h === undefined) break;
                const next = model.queue[0];
                plans[h] = 'fail';
                gates[h].open();
                if (cmd.t === 'failCancelNext' && next !== undefined) {
                  // The failing caller cancels the waiter its failure just handed the turn
                  // to, before that waiter runs: the turn must move on again.
                  onError[h] = () => tasks[next].cancel();
                }
                model.fail(cmd.t === 'failCancelNext');
                break;
              }
              case 'cancel': {
                const live = model.out.flatMap((o, k) => (o === 'pending' ? [k] : []));
                if (live.length === 0) break;
                const k = live[cmd.i % live.length];
                tasks[k].cancel();
                model.cancel(k);
                break;
              }
            }
            yield* settle();

            expect(once.isSet).toBe(model.state === 'set');
            expect(once.value).toBe(model.value);
            const holder = once.holder;
            expect(holder === undefined ? undefined : index.get(holder)).toBe(model.holder);
            expect(started).toEqual(model.started);
            expect(out).toEqual(model.out);
            expect(out.filter((o) => o.startsWith('value')).every((o) => o === `value ${model.value}`)).toBe(true);
          }

          for (const t of tasks) yield* t.halt();
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
