/**
 * States of the operation records (channel waiters, lock guards, permits), in the order
 * a record moves through them:
 *
 *   START                            a fresh operation entered by `yield*`
 *   PARK_TRIED / PARK_SYNC / YIELD   how its first next() proceeds (see coop.ts)
 *   YIELDED                          yielded once for the budget; try again on resume
 *   PARKING_TRIED / PARKING_SYNC     our Suspension was yielded; register is next and
 *                                    tries once more first only for PARKING_SYNC
 *   QUEUED                           linked in a wait list with `resume`
 *   GRANTED                          resumed with something that must be handed on (a
 *                                    message, a lock, permits) if cancellation arrives
 *                                    before the fiber runs
 *   RESUMED                          resumed with nothing to undo
 *   HELD                             a guard in the hands of its fiber
 *   DONE                             finished (or fresh / released, for reusable records)
 */
import { E_FAST, E_YIELD } from './coop.js';

export const S_START = -1;
export const S_PARK_TRIED = 0;
export const S_PARK_SYNC = 1;
export const S_YIELD = 2;
export const S_YIELDED = 3;
export const S_PARKING_TRIED = 4;
export const S_PARKING_SYNC = 5;
export const S_QUEUED = 6;
export const S_GRANTED = 7;
export const S_RESUMED = 8;
export const S_DONE = 9;
export const S_HELD = 10;

/** Initial state of a record for an entry mode that did not complete at once. */
export function initialState(mode: number): number {
  return mode === E_FAST ? S_PARK_TRIED : mode === E_YIELD ? S_YIELD : S_PARK_SYNC;
}
