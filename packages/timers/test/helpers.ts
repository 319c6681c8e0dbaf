// Minimal fiber-to-fiber primitives built on `suspend` (the tests must not import
// @rioco/sync): a one-value handoff and a FIFO lock that records who holds it.
import { suspend, type Operation, type Resume } from '@rioco/core';

/** A one-slot handoff: `put` wakes a waiting `take` or keeps the value for the next one. */
export class Slot<T> {
  readonly name = 'slot';
  private waiter: Resume<T> | null = null;
  private value: T | undefined;
  private has = false;
  get full(): boolean {
    return this.has;
  }
  get waiting(): boolean {
    return this.waiter !== null;
  }
  put(v: T): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.ok(v);
    } else {
      if (this.has) throw new Error('slot already full');
      this.value = v;
      this.has = true;
    }
  }
  *take(): Operation<T> {
    if (this.has) {
      this.has = false;
      return this.value as T;
    }
    return yield* suspend<T>(
      (r) => {
        if (this.has) {
          // Filled between the check above and the park (cannot happen today; keep it exact).
          this.has = false;
          r.ok(this.value as T);
          return;
        }
        this.waiter = r;
        return () => {
          if (this.waiter === r) this.waiter = null;
        };
      },
      { reason: 'slot.take', target: this, internal: true },
    );
  }
}

/** A FIFO lock: `acquire` parks while held; `release` hands it to the first waiter. */
export class Lock {
  readonly name = 'lock';
  holder: string | null = null;
  private readonly queue: Array<{ who: string; resume: Resume<void> }> = [];
  get waiters(): number {
    return this.queue.length;
  }
  *acquire(who: string): Operation<void> {
    if (this.holder === null) {
      this.holder = who;
      return;
    }
    yield* suspend<void>(
      (resume) => {
        const entry = { who, resume };
        this.queue.push(entry);
        return () => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
        };
      },
      { reason: 'lock.acquire', target: this, internal: true },
    );
  }
  release(who: string): void {
    if (this.holder !== who) throw new Error(`lock released by ${who} but held by ${String(this.holder)}`);
    const next = this.queue.shift();
    this.holder = next ? next.who : null;
    next?.resume.ok();
  }
}

/** Expect `fn` to throw synchronously an error with `code`; returns it. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}
