import type { Operation } from './Operation.js';
import type { FiberLocal } from './FiberLocal.js';

/**
 * Priorities: integers from 0 to 7, higher runs first; aging guarantees a low priority
 * fiber still runs under load.
 * @example
 * ```ts
 * spawn(backgroundIndexer, { priority: Priority.low });
 * ```
 * @public
 */
export const Priority = {
  lowest: 0,
  low: 2,
  normal: 4,
  high: 6,
  highest: 7,
} as const;

/**
 * Options of {@link spawn}.
 * @public
 */
export interface SpawnOptions<A extends readonly unknown[] = readonly unknown[]> {
  /** Name shown in dumps and deadlock reports. */
  name?: string;
  /** 0..7, higher first; default: the parent's priority (the root: `Priority.normal`). */
  priority?: number;
  /** Fiber-local values for the child (on top of what it inherits from its parent). */
  locals?: ReadonlyArray<readonly [FiberLocal<unknown>, unknown]>;
  /** Arguments for a body given as a function: `spawn(handle, { args: [conn] })`. */
  args?: A;
}

/**
 * A running fiber: join it with `yield* task`, await it as a Promise, cancel it.
 *
 * @remarks
 * `yield* task` returns the fiber's value or throws its error (the original error, not a
 * wrapper); a cancelled task throws {@link CancelledError}. `await task` behaves the same
 * (a task is `PromiseLike`, with `catch` and `finally`).
 * `task[Symbol.dispose]()` cancels; `await task[Symbol.asyncDispose]()` halts and waits.
 *
 * @example
 * ```ts
 * const t = spawn(function* () { yield* sleep(10); return 42; });
 * const v = yield* t; // 42
 * ```
 * @public
 */
export interface Task<T> extends Operation<T>, PromiseLike<T>, Disposable, AsyncDisposable {
  /** Fiber id, unique within the process. */
  readonly id: number;
  /** The name given at spawn, if any. */
  readonly name: string | undefined;
  /** Whether the fiber and all its children have finished. */
  readonly done: boolean;
  /**
   * Request cancellation: the fiber's current suspension is torn down and `return()` is
   * delivered there, so its `finally` blocks run (and may `yield*`). Children are
   * cancelled first, in reverse spawn order. Idempotent; does not wait.
   *
   * @remarks
   * One JavaScript rule to know: when a `finally` that waits (`yield*` that parks) belongs
   * to a generator called through `yield*` (not the fiber body itself), the pending
   * return ends at that `yield*`, and the caller goes on as if the call had returned. An
   * operation whose cleanup must wait should therefore end its cleanup by throwing
   * `CancelledError`, as `Condvar.wait` does: the unwinding then continues to the top,
   * and a cancelled fiber that ends with `CancelledError` counts as cancelled, not failed.
   */
  cancel(): void;
  /** Cancel and wait until the fiber has finished its cleanup. Never throws the fiber's error. */
  halt(): Operation<void>;
  /** As `Promise.prototype.catch`. */
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R>;
  /** As `Promise.prototype.finally`. */
  finally(onfinally?: (() => void) | null): Promise<T>;
}

/**
 * The root task of a runtime, returned by {@link run}: a {@link Task} typed as a
 * `Promise`, so a forgotten `await run(...)` is caught by no-floating-promises lint.
 * (Tasks from {@link spawn} are only `PromiseLike`: a child that nobody awaits is
 * normal in structured concurrency, where its parent waits for it anyway.)
 * @example
 * ```ts
 * const value = await run(function* () { return 1; });
 * ```
 * @public
 */
export interface RootTask<T> extends Task<T>, Promise<T> {
  /** As `Promise.prototype.then`. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2>;
  /** As `Promise.prototype.catch`. */
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R>;
  /** As `Promise.prototype.finally`. */
  finally(onfinally?: (() => void) | null): Promise<T>;
}
