/**
 * Fiber ownership of sockets: a socket created inside a fiber (connect, accept, listen,
 * bind) is closed when that fiber ends, however it ends (returned, failed, cancelled),
 * unless it was closed or adopted by another fiber first.
 *
 * Core has no "run this when the current fiber ends" API yet, so this uses the
 * scheduler's `exit` hook (installed once per runtime, on the first owned socket): the
 * hook fires when a fiber and all its children are done, which is exactly the scope a
 * socket should not outlive. Children finish before their parent, so a socket handed
 * down to a child is still open while the child runs.
 *
 * Invariants: an Owned is in at most one fiber's set (`owner` names it); `disown` is
 * idempotent; the exit hook removes the fiber's set before closing its members, so a
 * close that re-enters `disown` finds nothing to do.
 */
import { currentFiber, useScheduler, type Scheduler } from '@rioco/core';

export interface Owned {
  owner: Registry | null;
  ownerFiber: number;
  /** Close because the owning fiber ended. Must not throw. */
  closeByOwner(): void;
}

export class Registry {
  private readonly byFiber = new Map<number, Set<Owned>>();

  add(o: Owned, fiberId: number): void {
    let set = this.byFiber.get(fiberId);
    if (set === undefined) this.byFiber.set(fiberId, (set = new Set()));
    set.add(o);
    o.owner = this;
    o.ownerFiber = fiberId;
  }

  remove(o: Owned): void {
    const set = this.byFiber.get(o.ownerFiber);
    if (set !== undefined) {
      set.delete(o);
      if (set.size === 0) this.byFiber.delete(o.ownerFiber);
    }
    o.owner = null;
    o.ownerFiber = 0;
  }

  fiberEnded(fiberId: number): void {
    const set = this.byFiber.get(fiberId);
    if (set === undefined) return;
    this.byFiber.delete(fiberId);
    for (const o of set) {
      o.owner = null;
      o.ownerFiber = 0;
      try {
        o.closeByOwner();
      } catch {
        // A hook must never throw into the scheduler; closing is best effort here.
      }
    }
  }
}

const registries = new WeakMap<Scheduler, Registry>();

/** Make the current fiber (if any) the owner of `o`. Outside fibers `o` stays unowned. */
export function ownByCurrentFiber(o: Owned): void {
  const f = currentFiber();
  if (f === undefined) {
    if (o.owner !== null) o.owner.remove(o);
    return;
  }
  const s = useScheduler();
  let reg = registries.get(s);
  if (reg === undefined) {
    const r = (reg = new Registry());
    registries.set(s, r);
    s.addHooks({ exit: (fiber) => r.fiberEnded(fiber.id) });
  }
  if (o.owner !== null) o.owner.remove(o);
  reg.add(o, f.id);
}

export function disown(o: Owned): void {
  if (o.owner !== null) o.owner.remove(o);
}
