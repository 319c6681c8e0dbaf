/**
 * Intrusive FIFO wait lists: the waiter records themselves carry the links, so parking
 * allocates no list cell and a cancelled waiter unlinks in O(1).
 *
 * Invariants:
 * - a node is in at most one list at a time; `list` names it (null when unlinked) and
 *   `qPrev`/`qNext` are null whenever `list` is null;
 * - only the primitive that owns a list (and the teardown of a waiter in it) links or
 *   unlinks nodes, always on the runtime's own thread.
 *
 * Records declare the three link fields themselves instead of extending a base class:
 * a derived constructor costs a `super()` call on every lock and send.
 */
export interface Node {
  qPrev: Node | null;
  qNext: Node | null;
  list: WaitList<Node> | null;
}

export class WaitList<N extends Node> {
  head: N | null = null;
  tail: N | null = null;
  size = 0;

  push(n: N): void {
    const t = this.tail;
    n.qPrev = t;
    n.qNext = null;
    n.list = this;
    if (t === null) this.head = n;
    else t.qNext = n;
    this.tail = n;
    this.size++;
  }

  shift(): N | null {
    const n = this.head;
    if (n === null) return null;
    const next = n.qNext as N | null;
    this.head = next;
    if (next === null) this.tail = null;
    else next.qPrev = null;
    n.qNext = null;
    n.list = null;
    this.size--;
    return n;
  }

  /** Unlink `n` if it is in this list; false otherwise (idempotent). */
  remove(n: N): boolean {
    if (n.list !== (this as unknown as WaitList<Node>)) return false;
    const p = n.qPrev as N | null;
    const x = n.qNext as N | null;
    if (p === null) this.head = x;
    else p.qNext = x;
    if (x === null) this.tail = p;
    else x.qPrev = p;
    n.qPrev = n.qNext = null;
    n.list = null;
    this.size--;
    return true;
  }
}
