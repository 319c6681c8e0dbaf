import type { Operation } from '@rioco/core';
import { InvalidArgumentError } from '@rioco/core';
import { Channel as ChannelImpl } from './internal/channel.js';
import type { CLOSED, EMPTY } from './internal/symbols.js';
import type { RecvCase, SendCase } from './select.js';

export { CLOSED, EMPTY } from './internal/symbols.js';

/**
 * Options of {@link channel}.
 * @example
 * ```ts
 * const events = channel<Event>(Infinity, { name: 'events', external: true });
 * emitter.on('event', (e) => events.trySend(e));
 * ```
 * @public
 */
export interface ChannelOptions {
  /** Shown in deadlock reports and dumps next to the wait reason (`channel.recv (jobs)`). */
  name?: string;
  /**
   * `true` when code outside the runtime (a callback, an event emitter, plain async code)
   * sends or receives with `trySend`/`tryRecv`: fibers waiting on the channel then count
   * as waiting on an outside event, so the runtime does not report them as deadlocked.
   * Default `false`: only fibers use the channel (an async iterator over it sets this
   * for as long as it is open).
   */
  external?: boolean;
}

/**
 * A multi-producer multi-consumer channel: bounded (capacity n), rendezvous (capacity 0)
 * or unbounded (capacity `Infinity`). Create one with {@link channel}.
 *
 * @remarks
 * Messages are received in the order they were sent; waiting senders and waiting
 * receivers are each served first come, first served. A value goes straight from a
 * sender to a waiting receiver (no buffer hop), so a rendezvous send completes exactly
 * when a receiver has the value.
 *
 * `close()` stops sends; receivers first drain what is buffered, then see the channel
 * closed (`recv` throws {@link ChannelClosedError}, `recvOrClosed` returns
 * {@link CLOSED}). Senders parked on a full channel when it closes fail with
 * {@link SendClosedError}, which gives their value back.
 *
 * Cancellation never loses or duplicates a message: see each method.
 *
 * @example
 * ```ts
 * const jobs = channel<string>(16, { name: 'jobs' });
 * spawn(function* () {
 *   for (const j of ['a', 'b']) yield* jobs.send(j);
 *   jobs.close();
 * });
 * for (;;) {
 *   const j = yield* jobs.recvOrClosed();
 *   if (j === CLOSED) break;
 *   console.log(j);
 * }
 * ```
 * @public
 */
export interface Channel<T> extends AsyncIterable<T>, Disposable {
  /** 0 (rendezvous), n (bounded) or `Infinity` (unbounded). */
  readonly capacity: number;
  /** The name given in {@link ChannelOptions}, if any. */
  readonly name: string | undefined;
  /** Messages buffered now. */
  readonly size: number;
  /** Whether `close()` was called (buffered messages may remain). */
  readonly closed: boolean;

  /**
   * Send `value`, waiting while the channel is full (for a rendezvous channel: until a
   * receiver takes it).
   *
   * @remarks
   * Cancellation: if the fiber is cancelled while the send waits, nothing was sent — the
   * value is in no buffer and no receiver got it. If the value was already taken when
   * cancellation arrives, the send is complete and the value is received exactly once.
   *
   * @throws {@link SendClosedError} (code `CHANNEL_CLOSED`) when the channel is closed,
   *   or closes while the send waits; `err.intoInner()` gives the value back.
   */
  send(value: T): Operation<void>;

  /**
   * Receive the next message, waiting while the channel is empty. Completes without
   * parking when a message is buffered.
   *
   * @remarks
   * Cancellation loses no message: a waiting receiver that is cancelled takes nothing;
   * one cancelled after a message was handed to it (woken, not yet running) puts the
   * message back at the head of the channel, where the next receiver gets it first.
   *
   * @throws {@link ChannelClosedError} (code `CHANNEL_CLOSED`) once the channel is closed
   *   and drained.
   */
  recv(): Operation<T>;

  /**
   * Like {@link Channel.recv}, but returns {@link CLOSED} instead of throwing once the
   * channel is closed and drained: `while ((v = yield* ch.recvOrClosed()) !== CLOSED)`.
   * Same cancellation guarantee as `recv`.
   */
  recvOrClosed(): Operation<T | typeof CLOSED>;

  /**
   * Wait for at least one message, then take up to `max` of those available without
   * waiting more: `for (const v of yield* ch.recvMany(64))`. Returns an empty array once
   * the channel is closed and drained. Same cancellation guarantee as `recv`.
   * @throws InvalidArgumentError unless `max` is an integer `>= 1`.
   */
  recvMany(max: number): Operation<T[]>;

  /**
   * Send without waiting: `true` if the value was buffered or handed to a waiting
   * receiver, `false` if the channel is full. Works outside fibers.
   * @throws {@link SendClosedError} when the channel is closed.
   */
  trySend(value: T): boolean;

  /**
   * Receive without waiting: the next message, {@link EMPTY} if none is ready, or
   * {@link CLOSED} if the channel is closed and drained. Works outside fibers.
   */
  tryRecv(): T | typeof EMPTY | typeof CLOSED;

  /**
   * Close the channel: later sends fail, parked senders fail with their value given
   * back, parked receivers see the channel closed once the buffer is drained. Returns
   * `false` if it was already closed (closing twice is harmless).
   */
  close(): boolean;

  /** A receive case for {@link select}; its result value is a message or {@link CLOSED}. */
  onRecv(): RecvCase<T>;

  /** A send case for {@link select}. */
  onSend(value: T): SendCase<T>;

  /**
   * Receive from outside fibers, with `for await`. While the iterator is open, fibers
   * waiting on this channel count as waiting on an outside event (no deadlock report).
   * Ends when the channel is closed and drained.
   */
  [Symbol.asyncIterator](): AsyncIterator<T>;

  /** Closes the channel (`using ch = channel(1)`). */
  [Symbol.dispose](): void;
}

/**
 * Create a channel of the given capacity: `0` (the default) for a rendezvous channel,
 * `n` for a bounded buffer, `Infinity` for an unbounded one.
 *
 * @example
 * ```ts
 * const ch = channel<number>(1);
 * yield* ch.send(1);
 * console.log(yield* ch.recv()); // 1
 * ```
 * @throws InvalidArgumentError (code `INVALID_ARGUMENT`) for a capacity that is negative,
 *   not an integer, or not `Infinity`.
 * @public
 */
export function channel<T>(capacity = 0, options?: ChannelOptions): Channel<T> {
  if (typeof capacity !== 'number' || !(capacity === Infinity || (Number.isInteger(capacity) && capacity >= 0))) {
    throw new InvalidArgumentError(
      `channel capacity must be an integer >= 0 or Infinity, got ${String(capacity)}`,
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidArgumentError('channel options must be an object');
  }
  const name = options?.name;
  if (name !== undefined && typeof name !== 'string') throw new InvalidArgumentError('channel option "name" must be a string');
  const external = options?.external;
  if (external !== undefined && typeof external !== 'boolean') throw new InvalidArgumentError('channel option "external" must be a boolean');
  return new ChannelImpl<T>(capacity, name, external === true);
}
