import type { Operation, Body } from './Operation.js';
import type { Task, SpawnOptions } from './Task.js';
import type { Clock } from './Clock.js';
import type { WaitReason } from './internal/waitReason.js';

export type { WaitReason };

/**
 * The handle a `suspend` registration uses to wake its fiber. Only the first call of
 * `ok`/`fail` counts; later calls, and calls after the fiber was cancelled, are ignored.
 * @public
 */
export interface Resume<T> {
  /** Wake the fiber with a value. */
  ok(value: T): void;
  /** Wake the fiber by throwing `error` at its suspension point. */
  fail(error: unknown): void;
}

/**
 * What a `suspend` registration returns to undo its wait if the fiber is cancelled
 * first: a function, or an object with a `cancel()` method (a {@link TimerHandle}, or the
 * wait's own record — no closure per park).
 * @example
 * ```ts
 * yield* s.suspend<void>((resume) => s.setTimer(s.clock.now() + 10, () => resume.ok()));
 * ```
 * @public
 */
export type Teardown = (() => void) | { cancel(): void };

/**
 * Options of {@link suspend}.
 * @public
 */
export interface SuspendOptions {
  /**
   * What the fiber waits on, for dumps and deadlock reports. Prefer a
   * {@link waitReason} created once at module load: a string is interned on every call.
   */
  reason?: WaitReason | string;
  /**
   * The object waited on (a channel, a mutex), shown in dumps and deadlock reports. When
   * it has a `holder` (a fiber id) or `holders` (fiber ids) property, as `@rioco/sync`'s
   * locks do, a {@link DeadlockError} follows it to the fibers holding it and names the
   * wait-for cycles (see `DeadlockError.cycles`). `RunOptions.lockCycles` follows a
   * target with several holders only when every one of them must release before a waiter
   * can go on, and the target says so with `[Symbol.for('rioco.allHolders')]: true` (as
   * `RwLock` does; a semaphore, whose waiters any holder may let in, does not).
   */
  target?: object;
  /**
   * `true` when only another fiber of the same runtime can resume this wait (joins,
   * channels, locks). Internal waits are not wake sources, so a program whose fibers all
   * wait internally is reported as deadlocked. Default `false`: the resume is handed to
   * code outside the runtime (a callback, an event emitter) and counts as a wake source.
   */
  internal?: boolean;
  /**
   * `true` when the waiter drops the Resume as soon as the wait ends (it called `ok` or
   * `fail`, or its teardown ran) and never calls it afterwards: the fiber then gets one
   * Resume for all such waits, re-aimed at each park, instead of a new one per park
   * (no allocation, and no write barrier when a long-lived wait list stores it). A
   * stale call on it would resume a later wait, so leave this off unless the
   * primitive's bookkeeping guarantees it (as `@rioco/sync`'s does). Default `false`.
   */
  reuseResume?: boolean;
}

/**
 * A reference that keeps the runtime from reporting a deadlock (and, for `ref`'d ones,
 * tells it the program is not finished) while something outside it can still wake a
 * fiber: a timer, a socket, a promise. Release it exactly once.
 * @public
 */
export interface WakeSource {
  /** Give the reference back. Idempotent. */
  release(): void;
  /** Whether this source keeps the runtime alive (see {@link Scheduler.holdWakeSource}). */
  readonly ref: boolean;
}

/**
 * Read-only view of a fiber, for hooks, dumps and the current-fiber API.
 * @public
 */
export interface FiberInfo {
  readonly id: number;
  readonly name: string | undefined;
  readonly priority: number;
  /** `'ready' | 'running' | 'parked' | 'awaiting children' | 'done'` */
  readonly state: string;
  readonly parentId: number;
  /** Label of what the fiber waits on while parked, else `undefined`. */
  readonly waitingOn: string | undefined;
  /** The object it waits on, if the suspension named one. */
  readonly waitTarget: object | undefined;
}

/**
 * Observers of the scheduler. Each is optional; absent hooks cost nothing. Hooks run
 * synchronously on the scheduler's path: keep them short, never throw.
 * @public
 */
export interface SchedulerHooks {
  spawn?(fiber: FiberInfo): void;
  /** A fiber is about to run (`from` is always undefined: fibers never nest). */
  switch?(fiber: FiberInfo): void;
  park?(fiber: FiberInfo, reason: string): void;
  wake?(fiber: FiberInfo): void;
  exit?(fiber: FiberInfo, outcome: 'ok' | 'error' | 'cancelled', error?: unknown): void;
  /** An error that nobody joined (a supervised child's failure). */
  unhandledError?(error: unknown, fiber: FiberInfo): void;
  /** The native monitor saw a fiber hog the thread or the event loop stop turning. */
  stall?(report: StallReport): void;
}

/**
 * What the native monitor thread saw (see `RunOptions.monitor`).
 * @public
 */
export interface StallReport {
  /** `stuck-fiber`: a fiber ran `ms` without yielding; `loop-stall`: the event loop did not turn for `ms`. */
  readonly kind: 'stuck-fiber' | 'loop-stall';
  /** The fiber running at the time (0 when none). */
  readonly fiberId: number;
  /** How long, in milliseconds, when detected. */
  readonly ms: number;
}

/**
 * The interface sibling packages and framework authors build on. Get the one running
 * the current fiber with {@link useScheduler}.
 *
 * @example
 * ```ts
 * function* sleepish(ms: number): Operation<void> {
 *   const s = useScheduler();
 *   yield* s.suspend<void>((resume) => {
 *     const t = s.setTimer(s.clock.now() + ms, () => resume.ok());
 *     return () => t.cancel();
 *   }, { reason: 'sleep', internal: true });
 * }
 * ```
 * @public
 */
export interface Scheduler {
  /** Which implementation: `'default'` or `'seeded'`. */
  readonly kind: 'default' | 'seeded';
  /** Seed of a seeded scheduler (replay a failing interleaving with `RIOCO_SEED`). */
  readonly seed: number | undefined;
  /** The clock fibers of this runtime see (real or virtual). */
  readonly clock: Clock;
  /** Park the current fiber; see {@link suspend}. */
  suspend<T>(register: (resume: Resume<T>) => Teardown | void, options?: SuspendOptions): Operation<T>;
  /** Spawn a child of the current fiber; see {@link spawn}. */
  spawn<T, A extends readonly unknown[] = []>(body: Body<T, A>, options?: SpawnOptions<A>): Task<T>;
  /** The fiber running now, or `undefined` outside any fiber of this scheduler. */
  current(): FiberInfo | undefined;
  /**
   * Take a wake-source reference. `ref: false` sources prevent a deadlock report but
   * do not keep the program alive: when only those remain, the runtime treats the
   * remaining children of a finished body as daemons and cancels them.
   */
  holdWakeSource(ref?: boolean): WakeSource;
  /**
   * Call `callback` when the clock reaches `at` (ms on {@link Scheduler.clock}). One
   * timer queue per runtime on one host timer; the pending timer is a wake source.
   */
  setTimer(at: number, callback: () => void, options?: { ref?: boolean }): TimerHandle;
  /** Add observers; returns a function that removes them. */
  addHooks(hooks: SchedulerHooks): () => void;
  /** Every live fiber of this runtime, root first (depth-first). */
  fibers(): FiberInfo[];
}

/**
 * A pending timer.
 * @public
 */
export interface TimerHandle {
  /** Remove the timer; its callback will not run. Idempotent. */
  cancel(): void;
  /** Whether the callback ran or the timer was cancelled. */
  readonly settled: boolean;
}
