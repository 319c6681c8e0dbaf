import type { Operation } from '@rioco/core';
import { InvalidArgumentError } from '@rioco/core';
import type { Channel } from './Channel.js';
import type { CLOSED } from './internal/symbols.js';
import { DEFAULT_CASE, SelectOp, TimeoutCaseImpl } from './internal/channel.js';

/**
 * A receive case of {@link select}, made by {@link Channel.onRecv}. Its result value is
 * the message, or {@link CLOSED} when the channel is closed and drained.
 * @example
 * ```ts
 * const r = yield* select(jobs.onRecv(), onTimeout(100));
 * ```
 * @public
 */
export interface RecvCase<T> {
  /** Discriminant. */
  readonly kind: 'recv';
  /** The channel to receive from. */
  readonly channel: Channel<T>;
}

/**
 * A send case of {@link select}, made by {@link Channel.onSend}. Its result value is
 * `undefined`. If the channel is closed, `select` throws {@link SendClosedError}.
 * @example
 * ```ts
 * const r = yield* select(primary.onSend(job), backup.onSend(job));
 * ```
 * @public
 */
export interface SendCase<T> {
  /** Discriminant. */
  readonly kind: 'send';
  /** The channel to send on. */
  readonly channel: Channel<T>;
  /** The value sent if this case is the one taken. */
  readonly value: T;
}

/**
 * A timeout case of {@link select}, made by {@link onTimeout}.
 * @example
 * ```ts
 * const r = yield* select(replies.onRecv(), onTimeout(250));
 * if (r.index === 1) console.log('timed out');
 * ```
 * @public
 */
export interface TimeoutCase {
  /** Discriminant. */
  readonly kind: 'timeout';
  /** Milliseconds after the select starts waiting. */
  readonly ms: number;
}

/**
 * The default case of {@link select}, made by {@link onDefault}: taken at once when no
 * other case is ready, so the select never waits.
 * @example
 * ```ts
 * const r = yield* select(ch.onRecv(), onDefault()); // never parks
 * ```
 * @public
 */
export interface DefaultCase {
  /** Discriminant. */
  readonly kind: 'default';
}

/**
 * Any case of {@link select}.
 * @example
 * ```ts
 * const cases: SelectCase[] = [a.onRecv(), b.onSend(1), onTimeout(10)];
 * const r = yield* select(...cases);
 * ```
 * @public
 */
export type SelectCase = RecvCase<unknown> | SendCase<unknown> | TimeoutCase | DefaultCase;

/**
 * The value a case contributes to a {@link SelectResult}.
 * @example
 * ```ts
 * type V = CaseValue<RecvCase<number>>; // number | typeof CLOSED
 * ```
 * @public
 */
export type CaseValue<C> = C extends RecvCase<infer T> ? T | typeof CLOSED : undefined;

/**
 * What {@link select} returns: which case fired (`index`, its position in the argument
 * list, as a literal type) and its value. Narrow on `index` to get the case's value type.
 * @example
 * ```ts
 * const r = yield* select(nums.onRecv(), names.onRecv());
 * if (r.index === 1 && r.value !== CLOSED) r.value.toUpperCase(); // r.value: string
 * ```
 * @public
 */
export type SelectResult<C extends readonly SelectCase[]> = {
  [K in keyof C]: {
    readonly index: K extends `${infer N extends number}` ? N : never;
    readonly value: CaseValue<C[K]>;
  };
}[number];

/**
 * Wait until one of several channel operations can proceed, perform exactly that one,
 * and say which. Cases: `ch.onRecv()`, `ch.onSend(v)`, `onTimeout(ms)`, `onDefault()`.
 *
 * @remarks
 * Exactly one case takes effect; the others leave no trace (no value sent, none
 * received). When several are ready, the scan starts at a rotating position (per
 * channel), so no ready case is starved and runs replay the same way under a seed.
 * With `onDefault()` the select never waits; with `onTimeout(ms)` it waits at most `ms`
 * (on the runtime's clock: virtual in tests). A receive case on a closed, drained
 * channel is ready with value {@link CLOSED}; a send case on a closed channel makes the
 * select throw {@link SendClosedError}.
 *
 * Cancellation: a select cancelled while waiting took no message and sent nothing; one
 * cancelled after a receive case was handed a message gives the message back to the
 * head of its channel; a send case that completed stays sent.
 *
 * @example
 * ```ts
 * const r = yield* select(jobs.onRecv(), quit.onRecv(), onTimeout(1000));
 * if (r.index === 0 && r.value !== CLOSED) handle(r.value);
 * else if (r.index === 2) console.log('idle for a second');
 * ```
 * @throws InvalidArgumentError for no cases, two default cases, a negative timeout or
 *   something that is not a case.
 * @public
 */
export function select<const C extends readonly SelectCase[]>(...cases: C): Operation<SelectResult<C>> {
  return new SelectOp(cases) as unknown as Operation<SelectResult<C>>;
}

/**
 * A {@link select} case that fires `ms` milliseconds after the select starts waiting
 * (on the runtime's clock, so virtual time in tests).
 * @example
 * ```ts
 * const r = yield* select(replies.onRecv(), onTimeout(500));
 * if (r.index === 1) throw new Error('no reply within 500 ms');
 * ```
 * @throws InvalidArgumentError unless `ms` is a number `>= 0`.
 * @public
 */
export function onTimeout(ms: number): TimeoutCase {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new InvalidArgumentError(`onTimeout(ms) needs a number of milliseconds >= 0, got ${String(ms)}`);
  }
  return new TimeoutCaseImpl(ms);
}

/**
 * A {@link select} case taken at once when no other case is ready (Go's `default:`).
 * @example
 * ```ts
 * const r = yield* select(ch.onSend(v), onDefault());
 * if (r.index === 1) dropped++; // channel full: do not wait
 * ```
 * @public
 */
export function onDefault(): DefaultCase {
  return DEFAULT_CASE;
}
