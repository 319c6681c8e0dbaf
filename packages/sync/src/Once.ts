import { InvalidArgumentError, type Operation } from '@rioco/core';
import type { MutexOptions } from './Mutex.js';
import { Once as OnceImpl } from './internal/once.js';

/**
 * A cell initialized at most once by an operation, however many fibers ask for it at the
 * same time (tokio's `OnceCell`, Go's `sync.Once` with a value).
 *
 * @remarks
 * The first caller runs its initializer; the others wait for its value. If the
 * initializer throws (the error goes to that caller only) or its fiber is cancelled, the
 * longest-waiting caller runs its own initializer instead; nobody is left waiting on a
 * cell nobody initializes. For `@rioco/debug`, waiters park with reason `once.wait` and
 * `holder` is the fiber running the initializer.
 *
 * @example
 * ```ts
 * const config = new Once<Config>();
 * function* getConfig(): Operation<Config> {
 *   return yield* config.getOrInit(() => loadConfig('/etc/app.json'));
 * }
 * ```
 * @public
 */
export interface Once<T> {
  /** The name given in the options, if any. */
  readonly name: string | undefined;
  /** Whether the value is set. */
  readonly isSet: boolean;
  /** The value, once set. */
  readonly value: T | undefined;
  /** Id of the fiber running the initializer now, if any. */
  readonly holder: number | undefined;
  /**
   * The value, running `init` to produce it if nobody has yet (waiting if another fiber
   * is running its initializer now).
   *
   * @remarks
   * Cancellation: a cancelled waiter leaves nothing behind; if the cancelled fiber was
   * running the initializer, or had just been given the turn to, the next waiter runs its
   * initializer.
   * @throws whatever `init` throws (only to the caller whose `init` threw);
   *   InvalidArgumentError if `init` is not a function, or (to the caller whose turn it
   *   was, the next caller then runs its own `init`) if it returns something that is not
   *   an operation.
   */
  getOrInit(init: () => Operation<T>): Operation<T>;
}

/**
 * Create an empty {@link (Once:interface)}.
 * @example
 * ```ts
 * const once = new Once<number>();
 * const v = yield* once.getOrInit(function* () { return 42; });
 * ```
 * @public
 */
export const Once: new <T>(options?: MutexOptions) => Once<T> = OnceImpl;

/**
 * A value computed by an operation on first use: {@link (Once:interface)} with its
 * initializer fixed. See {@link lazy}.
 * @example
 * ```ts
 * const schema: Lazy<Schema> = lazy(() => loadSchema());
 * const s = yield* schema.get();
 * ```
 * @public
 */
export interface Lazy<T> {
  /** The value, computing it on first use (concurrent callers wait for one computation). */
  get(): Operation<T>;
  /** Whether the value was computed. */
  readonly isSet: boolean;
  /** The value, once computed. */
  readonly value: T | undefined;
}

/**
 * A lazily computed value: `init` runs on the first `get()`, once, however many fibers
 * call it at the same time (same failure and cancellation rules as
 * {@link (Once:interface)}).
 * @example
 * ```ts
 * const pool = lazy(() => connectPool(process.env.DB_URL!));
 * function* handler(): Operation<void> {
 *   const db = yield* pool.get();
 * }
 * ```
 * @throws InvalidArgumentError if `init` is not a function.
 * @public
 */
export function lazy<T>(init: () => Operation<T>, options?: MutexOptions): Lazy<T> {
  if (typeof init !== 'function') throw new InvalidArgumentError('lazy(init) needs a function returning an operation');
  const once = new OnceImpl<T>(options);
  return {
    get: () => once.getOrInit(init),
    get isSet() {
      return once.isSet;
    },
    get value() {
      return once.value;
    },
  };
}
