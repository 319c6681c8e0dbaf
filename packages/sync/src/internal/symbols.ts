/**
 * Marker values returned instead of a message. Unique symbols, so they can never be
 * confused with a message of any type and cost no allocation.
 */

/**
 * Returned by {@link Channel.recvOrClosed}, {@link Channel.tryRecv} and a `select`
 * receive case when the channel is closed and drained.
 * @example
 * ```ts
 * for (;;) {
 *   const job = yield* jobs.recvOrClosed();
 *   if (job === CLOSED) break;
 *   run(job);
 * }
 * ```
 * @public
 */
export const CLOSED: unique symbol = Symbol('rioco.channel.closed');

/**
 * Returned by {@link Channel.tryRecv} when nothing can be received right now.
 * @example
 * ```ts
 * const v = ch.tryRecv();
 * if (v !== EMPTY && v !== CLOSED) use(v);
 * ```
 * @public
 */
export const EMPTY: unique symbol = Symbol('rioco.channel.empty');
