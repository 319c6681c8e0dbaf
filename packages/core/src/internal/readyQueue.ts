/**
 * Ready queues. The scheduler pops one fiber at a time; a fiber is in at most one queue.
 *
 * PriorityQueue: eight FIFO rings (priority 0..7, higher first) and a bitmask of the
 * non-empty ones. With one level in use (the common case, "solo mode") a push and a pop
 * are a ring push and shift, with no bookkeeping for aging. With
 * several, each head competes with score `level + waited / AGING_STEP`, where `waited`
 * counts pops since it was queued: a fiber gains one level per AGING_STEP pops, so a
 * priority-0 fiber waits at most ~7 * AGING_STEP pops behind a stream of priority-7 work.
 *
 * SeededQueue: pops a uniformly random ready fiber from a seeded PRNG, so a test can
 * explore interleavings and replay one exactly from its seed. It ignores priorities.
 */
export interface Queued {
  priority: number;
}

export interface ReadyQueue<F extends Queued> {
  push(f: F): void;
  shift(): F | undefined;
  readonly size: number;
}

export const AGING_STEP = 16;

class Ring<F> {
  buf: (F | undefined)[];
  /** When each entry was queued (pop count), for aging; parallel to buf. */
  ticks: Float64Array;
  head = 0;
  tail = 0;
  mask: number;
  size = 0;
  constructor(cap = 64) {
    this.buf = new Array<F | undefined>(cap).fill(undefined);
    this.ticks = new Float64Array(cap);
    this.mask = cap - 1;
  }
  push(f: F, tick: number): void {
    if (this.size > this.mask) this.grow();
    this.buf[this.tail] = f;
    this.ticks[this.tail] = tick;
    this.tail = (this.tail + 1) & this.mask;
    this.size++;
  }
  /** push() without an aging stamp (solo mode keeps none). */
  add(f: F): void {
    if (this.size > this.mask) this.grow();
    this.buf[this.tail] = f;
    this.tail = (this.tail + 1) & this.mask;
    this.size++;
  }
  shift(): F {
    const f = this.buf[this.head] as F;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return f;
  }
  /**
   * No entry counts as queued before this pop count (see stamp). Solo mode leaves old
   * stamps in the slots it reuses: they are never later than `floor`, so the later of
   * the two is the entry's.
   */
  floor = 0;
  headTick(): number {
    const t = this.ticks[this.head];
    return t > this.floor ? t : this.floor;
  }
  /** Count every queued entry as queued at `tick` (the latest pop count): O(1). */
  stamp(tick: number): void {
    this.floor = tick;
  }
  private grow(): void {
    const n = this.buf.length;
    const next = new Array<F | undefined>(n * 2).fill(undefined);
    const ticks = new Float64Array(n * 2);
    for (let i = 0; i < this.size; i++) {
      const j = (this.head + i) & this.mask;
      next[i] = this.buf[j];
      ticks[i] = this.ticks[j];
    }
    this.buf = next;
    this.ticks = ticks;
    this.head = 0;
    this.tail = this.size;
    this.mask = n * 2 - 1;
  }
}

export class PriorityQueue<F extends Queued> implements ReadyQueue<F> {
  private rings: Ring<F>[] = [];
  private bits = 0;
  private tick = 0;
  /**
   * Solo mode: at most one level has fibers (`soloLevel`, its ring `solo`), the common
   * case. A push to that level and a pop are then a ring push and shift, with no pop
   * count and no aging stamp kept. A push to another level ends solo mode: the solo
   * ring's fibers count as queued now (one store: the ring's floor, however many wait),
   * so their aging counts from when they first compete (until then they were served in
   * FIFO order, alone). When pops leave one
   * level, solo mode resumes on it. -1: several levels are in use.
   */
  private soloLevel: number;
  private solo: Ring<F>;
  size = 0;

  constructor() {
    for (let i = 0; i < 8; i++) this.rings.push(new Ring<F>());
    this.soloLevel = 0;
    this.solo = this.rings[0];
  }

  /** An empty queue, reusing a released one's grown rings when there is one. */
  static acquire<F extends Queued>(): PriorityQueue<F> {
    const q = pooledQueue;
    if (q === null) return new PriorityQueue<F>();
    pooledQueue = null;
    return q as PriorityQueue<F>;
  }

  /** Give an empty queue back for the next runtime of this thread. */
  release(): void {
    if (this.size === 0) pooledQueue = this;
  }

  push(f: F): void {
    const p = f.priority;
    if (p === this.soloLevel) {
      this.solo.add(f);
      this.size++;
      return;
    }
    this.pushLevel(f, p);
  }

  private pushLevel(f: F, p: number): void {
    if (this.size === 0) {
      // Empty: solo mode moves to this level.
      this.soloLevel = p;
      this.solo = this.rings[p];
      this.solo.add(f);
      this.size++;
      return;
    }
    const lone = this.soloLevel;
    if (lone >= 0) {
      // A second level: stamp the lone level's fibers and keep counts from here on.
      this.rings[lone].stamp(this.tick);
      this.bits = 1 << lone;
      this.soloLevel = -1;
    }
    this.rings[p].push(f, this.tick);
    this.bits |= 1 << p;
    this.size++;
  }

  shift(): F | undefined {
    if (this.soloLevel >= 0) {
      if (this.size === 0) return undefined;
      this.size--;
      return this.solo.shift();
    }
    return this.shiftCompeting();
  }

  /** Several levels have fibers: the head with the best aged score goes first. */
  private shiftCompeting(): F {
    const bits = this.bits;
    this.tick++;
    let level = -1;
    let best = -Infinity;
    for (let m = bits; m !== 0; ) {
      const l = 31 - Math.clz32(m);
      m &= ~(1 << l);
      const score = l + (this.tick - this.rings[l].headTick()) / AGING_STEP;
      if (score > best) {
        best = score;
        level = l;
      }
    }
    const ring = this.rings[level];
    const f = ring.shift();
    if (ring.size === 0) {
      const rest = bits & ~(1 << level);
      this.bits = rest;
      if ((rest & (rest - 1)) === 0) {
        // One level left: back to solo mode on it.
        const l = 31 - Math.clz32(rest);
        this.soloLevel = l;
        this.solo = this.rings[l];
        this.bits = 0;
      }
    }
    this.size--;
    return f;
  }
}

let pooledQueue: PriorityQueue<Queued> | null = null;

/** sfc32: small, fast, good statistical quality, 32-bit state words. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162;
  let d = 1;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

export class SeededQueue<F extends Queued> implements ReadyQueue<F> {
  private items: F[] = [];
  private random: () => number;
  constructor(seed: number) {
    this.random = prng(seed);
  }
  get size(): number {
    return this.items.length;
  }
  push(f: F): void {
    this.items.push(f);
  }
  shift(): F | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const i = Math.floor(this.random() * n);
    const f = this.items[i];
    // Keep the order of the rest (so the choice alone, not a swap, shapes the schedule).
    this.items.splice(i, 1);
    return f;
  }
}
