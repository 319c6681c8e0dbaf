import { useScheduler } from '@rioco/core';

/**
 * The current time of the runtime's clock, in milliseconds: monotonic
 * `performance.now()` by default, the virtual time under a `VirtualClock`. Deadlines of
 * {@link sleepUntil}, {@link deadline} and {@link Interval} ticks are on this clock.
 *
 * @throws RiocoError (code `NO_CURRENT_FIBER`) outside a fiber.
 * @example
 * ```ts
 * const t0 = now();
 * yield* work();
 * console.log(`took ${now() - t0} ms`);
 * ```
 * @public
 */
export function now(): number {
  return useScheduler().clock.now();
}
