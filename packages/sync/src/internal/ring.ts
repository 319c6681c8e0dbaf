/**
 * A growable ring buffer (power-of-two capacity) with O(1) push, shift and unshift.
 *
 * Invariants: `size <= buf.length`; live items are `buf[(head + i) & mask]` for
 * i < size; every other slot holds `undefined` so the buffer never retains a message
 * that was already received.
 */
export class Ring<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private mask: number;
  size = 0;

  constructor(initial = 8) {
    let cap = 4;
    while (cap < initial) cap *= 2;
    this.buf = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  push(v: T): void {
    if (this.size > this.mask) this.grow();
    this.buf[(this.head + this.size) & this.mask] = v;
    this.size++;
  }

  shift(): T {
    const h = this.head;
    const v = this.buf[h] as T;
    this.buf[h] = undefined;
    this.head = (h + 1) & this.mask;
    this.size--;
    return v;
  }

  /** Put `v` back in front (a message given back by a cancelled receiver). */
  unshift(v: T): void {
    if (this.size > this.mask) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = v;
    this.size++;
  }

  private grow(): void {
    const n = this.buf.length;
    const next = new Array<T | undefined>(n * 2).fill(undefined);
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = n * 2 - 1;
  }
}
