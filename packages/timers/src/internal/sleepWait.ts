/**
 * The wait behind sleep() and sleepUntil(): one entry in the runtime's timer queue.
 *
 * Per park it allocates one Suspension and one closure, and the closure plays all three
 * roles the core protocol asks for (register, timer callback, teardown): a parked sleep
 * is the fiber's ResumeHandle, this Suspension and closure, and the timer entry.
 *
 * Invariants: the closure runs as `register` exactly once, first. Afterwards it runs at
 * most once more, either as the timer callback (the entry has settled: resume the fiber)
 * or as the teardown (the fiber was cancelled first: the entry is still pending, cancel
 * it). The two cannot both happen: firing resumes the fiber, after which the runtime
 * never calls the teardown; a teardown cancels the entry, after which it never fires.
 * The wait is internal: the timer entry itself is the wake source the runtime counts
 * (ref'd or not), so a second, external count would keep virtual time from moving.
 */
import { suspend, type Operation, type Resume, type Scheduler, type SuspendOptions, type TimerHandle } from '@rioco/core';
import { SLEEP } from './reasons.js';

const PARK: SuspendOptions = { reason: SLEEP, internal: true };
const UNREF = { ref: false };

export function sleepWait(s: Scheduler, at: number, ref: boolean): Operation<void> {
  let resume: Resume<void> | undefined;
  let timer: TimerHandle | undefined;
  const step = (r?: Resume<void>): (() => void) | undefined => {
    if (r !== undefined) {
      resume = r;
      timer = s.setTimer(at, step, ref ? undefined : UNREF);
      return step;
    }
    const t = timer as TimerHandle;
    if (t.settled) (resume as Resume<void>).ok();
    else t.cancel();
    return undefined;
  };
  return suspend(step, PARK);
}
