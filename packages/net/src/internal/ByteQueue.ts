import { Buffer } from 'node:buffer';

/**
 * FIFO of received chunks. Chunks are stored as Node.js delivered them and handed out
 * whole when possible (no copy on the common `read()` path).
 *
 * Invariants: `chunks[head..tail)` are the live chunks, none of them empty; `length` is
 * the sum of their lengths; every other slot is `undefined` (nothing is pinned). When
 * the queue empties, head and tail go back to 0 but the array keeps its capacity, so the
 * steady state of a connection (one chunk in, one chunk out) allocates nothing here.
 * Slots before `head` are reclaimed by compaction once they are the majority.
 */
export class ByteQueue {
  private chunks: (Buffer | undefined)[] = [];
  private head = 0;
  private tail = 0;
  /** Bytes queued. */
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks[this.tail++] = chunk;
    this.length += chunk.length;
  }

  /** Put bytes back at the front (they were taken but not delivered). */
  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.head > 0) this.chunks[--this.head] = chunk;
    else {
      this.chunks.unshift(chunk);
      this.tail++;
    }
    this.length += chunk.length;
  }

  /** The first chunk, whole. Only call when `length > 0`. */
  shift(): Buffer {
    const c = this.chunks[this.head] as Buffer;
    this.chunks[this.head++] = undefined;
    this.length -= c.length;
    this.compact();
    return c;
  }

  /** Exactly `n` bytes (`0 < n <= length`): a view of the first chunk when it is long enough, else a copy. */
  take(n: number): Buffer {
    const first = this.chunks[this.head] as Buffer;
    if (first.length === n) return this.shift();
    if (first.length > n) {
      this.chunks[this.head] = first.subarray(n);
      this.length -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[this.head] as Buffer;
      const want = n - off;
      if (c.length <= want) {
        c.copy(out, off);
        off += c.length;
        this.chunks[this.head++] = undefined;
      } else {
        c.copy(out, off, 0, want);
        this.chunks[this.head] = c.subarray(want);
        off = n;
      }
    }
    this.length -= n;
    this.compact();
    return out;
  }

  /** The byte at offset `i` from the front (`0 <= i < length`). */
  at(i: number): number {
    for (let k = this.head; k < this.tail; k++) {
      const c = this.chunks[k] as Buffer;
      if (i < c.length) return c[i];
      i -= c.length;
    }
    throw new RangeError(`ByteQueue.at(${i}): past the end`);
  }

  /** Offset of the first `byte` at or after `from` (counted from the front), or -1. */
  indexOf(byte: number, from: number): number {
    let base = 0;
    for (let i = this.head; i < this.tail; i++) {
      const c = this.chunks[i] as Buffer;
      if (from < base + c.length) {
        const j = c.indexOf(byte, Math.max(0, from - base));
        if (j >= 0) return base + j;
      }
      base += c.length;
    }
    return -1;
  }

  /** Drop everything (the socket is gone). */
  clear(): void {
    this.chunks = [];
    this.head = this.tail = 0;
    this.length = 0;
  }

  private compact(): void {
    const h = this.head;
    if (h === this.tail) {
      this.head = this.tail = 0;
    } else if (h > 32 && h * 2 > this.tail) {
      this.chunks = this.chunks.slice(h, this.tail);
      this.tail -= h;
      this.head = 0;
    }
  }
}
