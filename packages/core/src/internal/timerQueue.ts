/**
 * One timer queue per runtime: a 4-ary min-heap on (deadline, sequence), so the earliest
 * deadline is at the top and equal deadlines fire in the order they were set. The
 * runtime arms its clock for the top entry only: one host timer, whatever the number of
 * pending timers.
 *
 * Layout: the keys live in parallel typed arrays (`keys` = deadline, `seqs` = insertion
 * number) beside the array of entries, so sifting compares unboxed doubles in
 * contiguous memory instead of chasing one object per comparison. A 4-ary heap is half
 * as deep as a binary one: a pop moves half as many entries for the same comparisons.
 *
 * Invariants:
 * - `items[i].index === i` for every entry in the heap; `keys[i]`/`seqs[i]` are its key.
 * - An entry's `index` is >= 0 while it is in the heap, FIRING while `fireDue` has taken
 *   it out and not yet run it, SETTLED (-1) once its callback ran or it was cancelled.
 * - `refCount` counts the ref'd entries in the heap; `onSettle` is called exactly once
 *   per entry, when it leaves the heap (fired or cancelled), for the runtime's
 *   wake-source accounting.
 * - An entry's `target` is its callback (setTimer), or the fiber parked on the entry
 *   itself (a timer wait): firing calls `fiberFired(fiber, entry)` instead, which resumes
 *   the fiber only if that park is still current (the fiber's teardown is this entry).
 * - `fireDue` first takes every due entry out, then runs the callbacks: an entry added by
 *   a callback waits for the next turn even when already due (a callback that re-arms
 *   itself cannot spin the loop forever), and one cancelled by an earlier callback of
 *   the same batch does not run. A callback that throws does not stop the others: the
 *   error is rethrown from a microtask, like an exception in a host timer callback.
 * Only the runtime's thread touches a queue.
 */
import type { TimerHandle } from '../Scheduler.js';

const SETTLED = -1;
const FIRING = -2;
const MIN_CAPACITY = 64;

export class TimerEntry implements TimerHandle {
  /** The callback, or the fiber parked on this entry (a timer wait); null once settled. */
  target: (() => void) | object | null;
  readonly ref: boolean;
  /** Heap position, or FIRING / SETTLED. */
  index = SETTLED;
  readonly owner: TimerQueue;
  constructor(owner: TimerQueue, target: (() => void) | object, ref: boolean) {
    this.owner = owner;
    this.target = target;
    this.ref = ref;
  }
  /** The deadline; read it only while the entry is pending (the runtime reads the top's). */
  get at(): number {
    return this.index >= 0 ? this.owner.keys[this.index] : NaN;
  }
  get settled(): boolean {
    return this.index === SETTLED;
  }
  cancel(): void {
    const i = this.index;
    if (i >= 0) this.owner.remove(this);
    else if (i === FIRING) {
      // Already out of the heap and counted as settled: just make sure it will not run.
      this.target = null;
      this.index = SETTLED;
    }
  }
}

export class TimerQueue {
  keys = new Float64Array(MIN_CAPACITY);
  private seqs = new Float64Array(MIN_CAPACITY);
  private items: TimerEntry[] = [];
  private seq = 0;
  refCount = 0;
  /** Called when the earliest deadline (or the ref-ness of the queue) may have changed. */
  onChange: () => void = () => {};
  /** Called when an entry leaves the queue (fired or cancelled), for wake-source accounting. */
  onSettle: (e: TimerEntry) => void = () => {};
  /** A timer wait fired: resume `fiber` if it is still parked on `entry`. */
  fiberFired: (fiber: object, entry: TimerEntry) => void = () => {};

  get size(): number {
    return this.items.length;
  }

  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  add(at: number, target: (() => void) | object, ref: boolean): TimerEntry {
    const e = new TimerEntry(this, target, ref);
    if (ref) this.refCount++;
    const n = this.items.length;
    if (n === this.keys.length) this.resize(n * 2);
    this.items.push(e);
    const i = this.up(n, at, this.seq++, e);
    if (i === 0) this.onChange();
    return e;
  }

  remove(e: TimerEntry): void {
    const i = e.index;
    this.take(i);
    e.index = SETTLED;
    e.target = null;
    if (e.ref) this.refCount--;
    this.onSettle(e);
    if (i === 0) this.onChange();
  }

  /** Take out every entry due at `now`, then run them in deadline, then sequence order. */
  fireDue(now: number): number {
    const items = this.items;
    let first: TimerEntry | null = null;
    let rest: TimerEntry[] | null = null;
    // Re-read `keys` each time: take() may shrink (replace) it.
    while (items.length > 0 && this.keys[0] <= now) {
      const e = items[0];
      this.take(0);
      e.index = FIRING;
      if (e.ref) this.refCount--;
      this.onSettle(e);
      if (first === null) first = e;
      else (rest ??= []).push(e);
    }
    let n = 0;
    if (first !== null) {
      n += this.run(first);
      if (rest !== null) for (let i = 0; i < rest.length; i++) n += this.run(rest[i]);
    }
    // Always: the clock forgot its spent host timer and needs the next deadline.
    this.onChange();
    return n;
  }

  /** Run one taken-out entry unless a callback of the same batch cancelled it. */
  private run(e: TimerEntry): number {
    const t = e.target;
    e.target = null;
    e.index = SETTLED;
    if (t === null) return 0;
    if (typeof t !== 'function') {
      this.fiberFired(t, e);
      return 1;
    }
    try {
      t();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
    return 1;
  }

  /** Remove the entry at heap position `i`, keeping the heap shape. */
  private take(i: number): void {
    const items = this.items;
    const last = items.length - 1;
    const moved = items.pop() as TimerEntry;
    if (i !== last) {
      const at = this.keys[last];
      const seq = this.seqs[last];
      // The moved entry goes down if it is later than i's children, else up.
      const j = this.down(i, at, seq, moved);
      if (j === i) this.up(i, at, seq, moved);
    }
    if (last < this.keys.length >> 3 && this.keys.length > MIN_CAPACITY * 16) this.resize(this.keys.length >> 1);
  }

  private resize(cap: number): void {
    const k = new Float64Array(cap);
    const s = new Float64Array(cap);
    const n = this.items.length;
    k.set(this.keys.subarray(0, n));
    s.set(this.seqs.subarray(0, n));
    this.keys = k;
    this.seqs = s;
  }

  /** Sift (at, seq, e) up from the hole at `i`; returns its final position. */
  private up(i: number, at: number, seq: number, e: TimerEntry): number {
    const keys = this.keys;
    const seqs = this.seqs;
    const items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pa = keys[p];
      if (pa < at || (pa === at && seqs[p] < seq)) break;
      keys[i] = pa;
      seqs[i] = seqs[p];
      const pe = items[p];
      items[i] = pe;
      pe.index = i;
      i = p;
    }
    keys[i] = at;
    seqs[i] = seq;
    items[i] = e;
    e.index = i;
    return i;
  }

  /** Sift (at, seq, e) down from the hole at `i`; returns its final position. */
  private down(i: number, at: number, seq: number, e: TimerEntry): number {
    const keys = this.keys;
    const seqs = this.seqs;
    const items = this.items;
    const n = items.length;
    for (;;) {
      const c0 = 4 * i + 1;
      if (c0 >= n) break;
      // The smallest of up to four children.
      let c = c0;
      let ca = keys[c0];
      let cs = seqs[c0];
      const end = c0 + 4 < n ? c0 + 4 : n;
      for (let k = c0 + 1; k < end; k++) {
        const ka = keys[k];
        if (ka < ca || (ka === ca && seqs[k] < cs)) {
          c = k;
          ca = ka;
          cs = seqs[k];
        }
      }
      if (at < ca || (at === ca && seq < cs)) break;
      keys[i] = ca;
      seqs[i] = cs;
      const ce = items[c];
      items[i] = ce;
      ce.index = i;
      i = c;
    }
    keys[i] = at;
    seqs[i] = seq;
    items[i] = e;
    e.index = i;
    return i;
  }
}


