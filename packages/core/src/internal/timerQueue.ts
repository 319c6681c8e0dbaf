/**
 * One timer queue per runtime: a binary min-heap on (deadline, sequence), so equal
 * deadlines fire in the order they were set. The runtime arms its clock for the top
 * entry only: one host timer, whatever the number of pending sleeps.
 *
 * Entries know their heap index, so cancel is O(log n) and leaves nothing behind.
 */
export class TimerEntry {
  at: number;
  seq: number;
  callback: (() => void) | null;
  ref: boolean;
  /** Position in the heap, -1 once fired or cancelled. */
  index = -1;
  owner: TimerQueue;
  constructor(owner: TimerQueue, at: number, seq: number, callback: () => void, ref: boolean) {
    this.owner = owner;
    this.at = at;
    this.seq = seq;
    this.callback = callback;
    this.ref = ref;
  }
  get settled(): boolean {
    return this.index < 0;
  }
  cancel(): void {
    if (this.index >= 0) this.owner.remove(this);
  }
}

export class TimerQueue {
  heap: TimerEntry[] = [];
  private seq = 0;
  refCount = 0;
  /** Called when the earliest deadline (or the ref-ness of the queue) may have changed. */
  onChange: () => void = () => {};
  /** Called when an entry leaves the queue (fired or cancelled), for wake-source accounting. */
  onSettle: (e: TimerEntry) => void = () => {};

  get size(): number {
    return this.heap.length;
  }

  peek(): TimerEntry | undefined {
    return this.heap[0];
  }

  add(at: number, callback: () => void, ref: boolean): TimerEntry {
    const e = new TimerEntry(this, at, this.seq++, callback, ref);
    if (ref) this.refCount++;
    const h = this.heap;
    e.index = h.length;
    h.push(e);
    this.up(e.index);
    if (e.index === 0) this.onChange();
    return e;
  }

  remove(e: TimerEntry): void {
    const i = e.index;
    const h = this.heap;
    const last = h.pop() as TimerEntry;
    e.index = -1;
    e.callback = null;
    if (e.ref) this.refCount--;
    if (last !== e) {
      h[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
    this.onSettle(e);
    if (i === 0) this.onChange();
  }

  /** Pop and run every entry due at `now`, in deadline then sequence order. */
  fireDue(now: number): number {
    let n = 0;
    const h = this.heap;
    while (h.length > 0 && h[0].at <= now) {
      const e = h[0];
      const cb = e.callback as () => void;
      this.removeTop();
      this.onSettle(e);
      n++;
      cb();
    }
    this.onChange();
    return n;
  }

  private removeTop(): void {
    const h = this.heap;
    const e = h[0];
    const last = h.pop() as TimerEntry;
    e.index = -1;
    e.callback = null;
    if (e.ref) this.refCount--;
    if (last !== e) {
      h[0] = last;
      last.index = 0;
      this.down(0);
    }
  }

  private less(a: TimerEntry, b: TimerEntry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(e, h[p])) break;
      h[i] = h[p];
      h[i].index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], e)) break;
      h[i] = h[c];
      h[i].index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}
