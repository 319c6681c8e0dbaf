// SteppedClock, apart from helpers.ts (which needs vitest) so that fixtures run in a child
// process can use it too.
import type { Clock } from '@rioco/core';

/**
 * A virtual clock the test moves by hand. Virtual time never passes on its own while a
 * fiber waits on a socket (an external wait, see VirtualClock), so a timeout on a socket
 * call fires only when the test calls `advance`; the due timers then fire from a host
 * callback, as a real clock's do. Like VirtualClock, it jumps by itself when timers are
 * all that is pending.
 */
export class SteppedClock implements Clock {
  readonly virtual = true;
  private t = 0;
  private armedAt: number | null = null;
  private fire: (() => void) | null = null;
  now(): number {
    return this.t;
  }
  arm(at: number | null, fire: () => void): void {
    this.armedAt = at;
    this.fire = at === null ? null : fire;
  }
  advanceTo(at: number): void {
    if (at > this.t && at !== Infinity) this.t = at;
  }
  /** Move time forward by `ms`; resolves once the timers that fell due have fired. */
  advance(ms: number): Promise<void> {
    this.advanceTo(this.t + ms);
    return new Promise((resolve) =>
      setImmediate(() => {
        const f = this.fire;
        if (f !== null && this.armedAt !== null && this.armedAt <= this.t) f();
        resolve();
      }),
    );
  }
}
