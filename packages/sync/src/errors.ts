/**
 * Errors of `@rioco/sync`. Each is a {@link @rioco/core#RiocoError} with a stable `code`;
 * bad arguments raise core's {@link @rioco/core#InvalidArgumentError}
 * (`INVALID_ARGUMENT`).
 */
import { RiocoError } from '@rioco/core';

/**
 * Stable codes of the errors that `@rioco/sync` raises (besides core's
 * `INVALID_ARGUMENT`). A code never changes meaning once released.
 * @example
 * ```ts
 * if (err instanceof RiocoError && err.code === ('NOT_OWNER' satisfies SyncErrorCode)) { … }
 * ```
 * @public
 */
export type SyncErrorCode = 'CHANNEL_CLOSED' | 'NOT_OWNER' | 'OVER_RELEASE' | 'NEGATIVE_COUNT';

/**
 * The channel is closed: `recv()` found it closed and drained, or a send was refused.
 * @example
 * ```ts
 * try { yield* ch.recv(); } catch (e) {
 *   if (e instanceof ChannelClosedError) console.log('no more messages');
 * }
 * ```
 * @public
 */
export class ChannelClosedError extends RiocoError {
  constructor(message = 'channel closed: every buffered message was received and no more will come') {
    super('CHANNEL_CLOSED', message);
  }
}

/**
 * A send on a closed channel (or a sender parked when the channel closed). The value was
 * not sent; take it back with {@link SendClosedError.intoInner}. Its code is
 * `CHANNEL_CLOSED`, like every closed-channel error.
 * @example
 * ```ts
 * try { yield* ch.send(job); } catch (e) {
 *   if (e instanceof SendClosedError) retryElsewhere(e.intoInner());
 * }
 * ```
 * @public
 */
export class SendClosedError<T = unknown> extends ChannelClosedError {
  /** The value that was not sent. */
  readonly value: T;
  constructor(value: T) {
    super('channel closed: the value was not sent; get it back with err.intoInner()');
    this.value = value;
  }
  /** The value that was not sent (tokio's `SendError::into_inner`). */
  intoInner(): T {
    return this.value;
  }
}

/**
 * A lock was released by a fiber that does not hold it (`mutex.unlock()` from another
 * fiber, or with the mutex unlocked), or a condvar wait got a guard that is not held.
 * @example
 * ```ts
 * const m = new Mutex();
 * m.unlock(); // throws NotOwnerError (code NOT_OWNER)
 * ```
 * @public
 */
export class NotOwnerError extends RiocoError {
  constructor(message: string) {
    super('NOT_OWNER', message);
  }
}

/**
 * More semaphore permits released than this permit holds.
 * @example
 * ```ts
 * const p = yield* sem.acquire(2);
 * p.release(3); // throws OverReleaseError (code OVER_RELEASE)
 * ```
 * @public
 */
export class OverReleaseError extends RiocoError {
  constructor(message: string) {
    super('OVER_RELEASE', message);
  }
}

/**
 * A {@link (WaitGroup:interface)} counter would drop below zero (`done()` called more often than
 * `add()`).
 * @example
 * ```ts
 * const wg = new WaitGroup();
 * wg.done(); // throws NegativeCountError (code NEGATIVE_COUNT)
 * ```
 * @public
 */
export class NegativeCountError extends RiocoError {
  constructor(message: string) {
    super('NEGATIVE_COUNT', message);
  }
}
