/** Wait reasons, interned once at module load so a park stores a small id. */
import { waitReason } from '@rioco/core';

export const SLEEP = waitReason('timers.sleep');
export const TICK = waitReason('timers.interval.tick');
