/**
 * Options every blocking call of `@rioco/net` takes.
 *
 * @remarks
 * `timeout` is in milliseconds on the runtime's clock; `0` means "only if it can complete
 * now" (a poll). When it expires the call throws {@link TimeoutError}; when `signal`
 * aborts it throws {@link AbortedError}. Either way, and when the fiber is cancelled,
 * the call leaves nothing half done: a read consumed no bytes (the next read returns
 * them), an accept took no connection (the next accept does).
 *
 * @example
 * ```ts
 * const line = yield* conn.readLine({ timeout: 30_000 });
 * ```
 * @public
 */
export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait forever). */
  timeout?: number;
  /** Give up when this signal aborts. */
  signal?: AbortSignal;
}
