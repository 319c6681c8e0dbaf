/**
 * Shared machinery of the blocking operations: how an operation enters (complete at once,
 * or park), the pre-resolved result it returns when it does not park, and the
 * cooperative budget.
 *
 * Every blocking method returns an object that is its own iterator. `yield*` calls its
 * `next()`, which either
 * - completes at once and returns `READY` (`done: true`): no scheduler round trip, no
 *   allocation beyond the operation record (recv on a buffered channel, lock of a free
 *   mutex) — the fast path;
 * - or returns one of the primitive's `Suspension`s: the fiber parks, and the
 *   primitive's register function, called synchronously by the scheduler, either
 *   completes the wait at once (`resume.ok` inside register, core's synchronous resume)
 *   or links the record into a wait list.
 *
 * Invariants:
 * - Under the seeded scheduler every operation goes through register (`E_SYNC`), so each
 *   one is a scheduling point the seed can reorder; the fast path is only an
 *   optimisation of the default scheduler.
 * - `coop` counts operations that completed without parking, across all fibers; every
 *   `COOP_BUDGET` of them one operation yields to the scheduler *before* it takes effect
 *   (`E_YIELD`), so a fiber that never really blocks (an always-ready channel) still
 *   lets others run, and cancellation at that yield leaves nothing behind. Parking
 *   resets the count.
 * - `READY` is one shared result object: `yield*` reads `done` and `value` immediately,
 *   so it is safe to reuse (core's resume result does the same). It keeps a reference to
 *   the last value until the next completion; nothing else does.
 */
import { OperationMode, currentFiber, operationMode, useScheduler, yieldNow, type FiberInfo, type Instruction, type Suspension } from '@rioco/core';
import { S_GRANTED, S_HELD, S_PARK_SYNC, S_PARK_TRIED, S_PARKING_SYNC, S_PARKING_TRIED, S_START, S_YIELDED } from './states.js';

/** What an operation's next() returns. */
export type Step<T> = IteratorResult<Instruction, T>;

export const E_FAST = 0;
export const E_SYNC = 1;
export const E_YIELD = 2;

/** Fast-path completions between forced yields (tokio's coop budget is 128 too). */
export const COOP_BUDGET = 128;
/**
 * The budget left: a field of a constant object, not a module-level `let` (whose every
 * access carries a hole check for its temporal dead zone).
 */
const budget = { left: COOP_BUDGET };

/**
 * `OperationMode.fast` as a literal: an immediate compare, where the imported constant is
 * a load through the module (checked once, below). The entry runs on every operation and
 * is inlined into every `yield*` site, where V8 counts its bytecode against a budget.
 */
const FAST = 1;
if ((OperationMode.fast as number) !== FAST) throw new Error('@rioco/sync: @rioco/core OperationMode.fast changed; rebuild @rioco/sync');

/** How the operation starting now should proceed. Throws NO_CURRENT_FIBER outside fibers. */
export function entryMode(): number {
  if (operationMode() === FAST && --budget.left !== 0) return E_FAST;
  return slowEntryMode();
}

/**
 * The budget is spent (yield first), or not the default scheduler: the seeded one (every
 * operation a scheduling point), or no fiber.
 */
function slowEntryMode(): number {
  if (operationMode() === FAST) {
    budget.left = COOP_BUDGET;
    return E_YIELD;
  }
  useScheduler(); // outside fibers: NO_CURRENT_FIBER
  return E_SYNC;
}

/** A wait really parked: the fiber gives the CPU away, so the budget starts over. */
export function parkedNow(): void {
  budget.left = COOP_BUDGET;
}

/** The pre-resolved result (and iterator) of an operation that completed at once. */
class Ready {
  readonly done = true;
  value: unknown = undefined;
  next(): Ready {
    return this;
  }
  return(): Ready {
    return this;
  }
  throw(e: unknown): never {
    throw e;
  }
  [Symbol.iterator](): Ready {
    return this;
  }
}
const READY = new Ready();

/** A completed result carrying `v`; consumed at once by `yield*`. */
export function ready<T>(v: T): IteratorReturnResult<T> & Iterator<Instruction, T, unknown> {
  READY.value = v;
  return READY as unknown as IteratorReturnResult<T> & Iterator<Instruction, T, unknown>;
}

/** Core's yield instruction (one shared Suspension). */
export const YIELD: Suspension<void> = yieldNow() as unknown as Suspension<void>;

/**
 * The value a parked fiber was resumed with. `token` is what the scheduler passed to
 * `next()`; any Suspension reads (and clears) the fiber's resume slot with it.
 */
export function takeResumed<T>(token: unknown): IteratorResult<Instruction, T> {
  return YIELD.next(token) as IteratorResult<Instruction, T>;
}

/** The result `return()` gives back when cancellation unwinds through an operation. */
export function returned<T>(v: T): IteratorReturnResult<T> {
  return { done: true, value: v };
}

/** What `enter` needs of a blocking operation record. */
export interface Enterable<T> {
  st: number;
  /** Complete now if possible, else park (state `S_PARKING_TRIED`). */
  attempt(): Step<T>;
  /** Park in state `st`; the register function completes or links the record. */
  park(st: number): Step<T>;
}

/**
 * The start of every blocking operation: complete at once (fast path), yield first (the
 * cooperative budget is spent; `afterYield` continues), or go through the scheduler
 * (seeded runs).
 */
export function enter<T>(op: Enterable<T>): Step<T> {
  const mode = entryMode();
  if (mode === E_FAST) return op.attempt();
  if (mode === E_YIELD) {
    op.st = S_YIELDED;
    return YIELD;
  }
  return op.park(S_PARKING_SYNC);
}

/**
 * The first step of a record made after the fast path missed, in the state
 * `initialState(mode)` gave it: park (having tried, or through the scheduler), or yield
 * first (the budget is spent).
 */
export function firstStep<T>(op: { st: number; park(st: number): Step<T> }): Step<T> {
  if (op.st === S_PARK_TRIED) return op.park(S_PARKING_TRIED);
  if (op.st === S_PARK_SYNC) return op.park(S_PARKING_SYNC);
  op.st = S_YIELDED;
  return YIELD;
}

/** Continue an operation after its budget yield: it has not taken effect yet. */
export function afterYield<T>(op: Enterable<T>, token: unknown): Step<T> {
  takeResumed(token);
  return op.attempt();
}

/** A lock-like operation whose result is a guard held by the acquiring fiber. */
export interface GuardOp<T> extends Enterable<T> {
  fiberId: number;
}

/**
 * `next()` of every guard-returning acquire (mutex, rwlock, semaphore): start, continue
 * after a budget yield, or take the guard handed over while parked.
 */
export function guardNext<T>(op: GuardOp<T>, token: unknown, busy: () => Error): Step<T> {
  switch (op.st) {
    case S_START:
      op.fiberId = (currentFiber() as FiberInfo).id;
      return enter(op);
    case S_YIELDED:
      return afterYield(op, token);
    case S_GRANTED:
      op.st = S_HELD;
      return takeResumed(token);
    default:
      throw busy();
  }
}
