/**
 * Fiber ownership of sockets: a socket created inside a fiber (connect, accept, listen,
 * bind) is closed when that fiber ends, however it ends (returned, failed, cancelled),
 * unless it was closed or adopted by another fiber first.
 *
 * Built on core's `ensure`: the cleanup runs when the fiber and all its children are
 * done, which is exactly the scope a socket should not outlive (children finish before
 * their parent, so a socket handed down to a child is still open while the child runs).
 *
 * Invariants: `owner` holds the remover of the pending cleanup, or null when the socket
 * is unowned; `disown` is idempotent; the cleanup clears `owner` before closing, so a
 * close that re-enters `disown` finds nothing to do.
 */
import { currentFiber, ensure } from '@rioco/core';

/** The remover returned by `ensure` (kept under this name for the state classes). */
export type Registry = () => void;

export interface Owned {
  owner: Registry | null;
  ownerFiber: number;
  /** Close because the owning fiber ended. Must not throw. */
  closeByOwner(): void;
}

/** Make the current fiber (if any) the owner of `o`. Outside fibers `o` stays unowned. */
export function ownByCurrentFiber(o: Owned): void {
  disown(o);
  const f = currentFiber();
  if (f === undefined) return;
  o.ownerFiber = f.id;
  o.owner = ensure(() => {
    o.owner = null;
    o.ownerFiber = 0;
    try {
      o.closeByOwner();
    } catch {
      // Closing is best effort here; the fiber's own outcome stands.
    }
  });
}

export function disown(o: Owned): void {
  const remove = o.owner;
  if (remove === null) return;
  o.owner = null;
  o.ownerFiber = 0;
  remove();
}
