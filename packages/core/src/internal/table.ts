/**
 * The fiber table: one fixed-stride record per live fiber, in a typed-array view, so
 * the scheduler updates it with plain stores and a native monitor thread can read it
 * while JavaScript runs or hangs.
 *
 * Layout of one slot (SLOT_BYTES = 64, little-endian, shared with native/include/rioco.h):
 *
 *   i32[0] ID        fiber id (> 0); 0 marks a free slot
 *   i32[1] STATE     FiberState code (below)
 *   i32[2] PRIORITY  0..7, higher runs first
 *   i32[3] PARENT    parent fiber id, 0 for a root
 *   i32[4] REASON    interned wait-reason id while parked (0 = none)
 *   i32[5] NAME      string id of the fiber's name in the string area, 0 = unnamed
 *   i32[6] RUNTIME   id of the runtime (one per thread) that owns the fiber
 *   i32[7] FLAGS     bit 0: supervisor; bit 1: cancel requested; bit 2: in cleanup
 *   f64[4] SPAWNED   spawn time (ms, performance.timeOrigin based, coarse)
 *   f64[5] SINCE     time of the last state change (ms, coarse: one clock read per drain)
 *   f64[6] SWITCHES  times this fiber was resumed
 *   f64[7] reserved
 *
 * The per-runtime header (HEADER_WORDS int32 + f64 view over the same bytes):
 *   i32[0] CURRENT    id of the fiber running now, 0 when none
 *   i32[1] LIVE       live fibers
 *   f64[1] SWITCH_SEQ total resumptions (a monitor sees a stuck fiber when it stops moving)
 *   f64[2] HEARTBEAT  time the scheduler last ran a drain (ms)
 *   f64[3] LOOP_BEAT  time the event loop last turned (written by the monitor's uv hook)
 *
 * STATE, REASON, SINCE, SWITCHES and the header's CURRENT, SWITCH_SEQ and HEARTBEAT
 * change on every fiber switch; the runtime stores them only into a table another
 * thread reads (native memory). An ArrayBuffer table has no such reader: it keeps what
 * a slot is created with, and the runtime's Fiber objects hold the rest.
 *
 * Invariants: only the owning runtime's thread writes its slots and header; readers on
 * other threads tolerate torn reads of a slot being rewritten (they re-check ID).
 * A slot's ID is written last on allocation and zeroed first on free.
 */
import { RiocoError } from '../errors.js';

export const SLOT_WORDS = 16;
export const SLOT_BYTES = 64;
export const F_ID = 0;
export const F_STATE = 1;
export const F_PRIORITY = 2;
export const F_PARENT = 3;
export const F_REASON = 4;
export const F_NAME = 5;
export const F_RUNTIME = 6;
export const F_FLAGS = 7;
/** f64 indexes within a slot (slot * 8 + n). */
export const D_SPAWNED = 4;
export const D_SINCE = 5;
export const D_SWITCHES = 6;

export const HEADER_BYTES = 64;
export const H_CURRENT = 0;
export const H_LIVE = 1;
export const HD_SWITCH_SEQ = 1;
export const HD_HEARTBEAT = 2;
export const HD_LOOP_BEAT = 3;

/** Fiber states as stored in the table and on the Fiber object. */
export const S_FREE = 0;
export const S_READY = 1;
export const S_RUNNING = 2;
export const S_PARKED = 3;
/** Body finished (or cleanup pending): waiting for children before completing. */
export const S_CHILDREN = 4;
export const S_DONE = 5;

export const STATE_NAMES = ['free', 'ready', 'running', 'parked', 'awaiting children', 'done'] as const;

/**
 * Memory behind a table. The default is an ArrayBuffer; the native library provides one
 * whose bytes live in native memory (see internal/native). `grow` may move the memory;
 * callers re-read `i32`/`f64` after it.
 */
export interface TableMemory {
  readonly header: { i32: Int32Array; f64: Float64Array };
  i32: Int32Array;
  f64: Float64Array;
  capacity: number;
  /** Grow to at least `capacity` slots, or throw a RiocoError('TABLE_FULL'). */
  grow(capacity: number): void;
  /** Record a string (fiber name); returns its id (> 0). */
  putString(text: string): number;
  /** Release a string id. */
  dropString(id: number): void;
  /** Release all memory (runtime end). */
  close(): void;
  /**
   * Keep this memory for the next runtime of the thread instead of closing it (its slots
   * are already zeroed): true when it was kept. Absent: always closed.
   */
  keep?(): boolean;
}

export const MAX_SLOTS = 1 << 22;

export class ArrayBufferTableMemory implements TableMemory {
  readonly header: { i32: Int32Array; f64: Float64Array };
  i32: Int32Array;
  f64: Float64Array;
  capacity: number;
  private strings: (string | undefined)[] = [undefined];
  private freeStrings: number[] = [];

  constructor(capacity = 256) {
    const h = new ArrayBuffer(HEADER_BYTES);
    this.header = { i32: new Int32Array(h), f64: new Float64Array(h) };
    const b = new ArrayBuffer(capacity * SLOT_BYTES);
    this.i32 = new Int32Array(b);
    this.f64 = new Float64Array(b);
    this.capacity = capacity;
  }

  grow(capacity: number): void {
    if (capacity > MAX_SLOTS) {
      throw new RiocoError('TABLE_FULL', `fiber table is full (${MAX_SLOTS} live fibers); end fibers before spawning more`);
    }
    const b = new ArrayBuffer(capacity * SLOT_BYTES);
    const i32 = new Int32Array(b);
    i32.set(this.i32);
    this.i32 = i32;
    this.f64 = new Float64Array(b);
    this.capacity = capacity;
  }

  putString(text: string): number {
    const id = this.freeStrings.pop() ?? this.strings.length;
    this.strings[id] = text;
    return id;
  }

  dropString(id: number): void {
    this.strings[id] = undefined;
    this.freeStrings.push(id);
  }

  close(): void {
    this.strings = [undefined];
    this.freeStrings = [];
  }
}



/**
 * Slot allocator over a TableMemory. Free slots form a LIFO stack (recently freed slots
 * are warm in cache).
 */
export class FiberTable {
  readonly mem: TableMemory;
  i32: Int32Array;
  f64: Float64Array;
  private free: Int32Array;
  private freeTop = 0;
  private next = 0;

  constructor(mem: TableMemory) {
    this.mem = mem;
    this.i32 = mem.i32;
    this.f64 = mem.f64;
    this.free = new Int32Array(mem.capacity);
  }

  /**
   * A table for a new runtime. ArrayBuffer tables are pooled per thread: programs and
   * test suites that start many runtimes do not regrow one each time.
   */
  static acquire(mem?: TableMemory): FiberTable {
    if (mem !== undefined) return new FiberTable(mem);
    const t = pooled;
    if (t === null) return new FiberTable(new ArrayBufferTableMemory());
    pooled = null;
    return t;
  }

  /**
   * A table over kept native memory when this thread has one (see `recycle`), else over
   * `make()`: programs and test suites that start many native runtimes do not regrow
   * (and re-create) a region each time.
   */
  static acquireKept(make: () => TableMemory): FiberTable {
    const t = pooledKept;
    if (t === null) return new FiberTable(make());
    pooledKept = null;
    return t;
  }

  /** The runtime is done with the table: all slots are free. */
  recycle(): void {
    const mem = this.mem;
    if (mem instanceof ArrayBufferTableMemory) {
      mem.close();
      this.clear();
      if (pooled === null || pooled.mem.capacity < mem.capacity) pooled = this;
      return;
    }
    if (pooledKept === null && mem.keep !== undefined) {
      this.clear();
      if (mem.keep()) {
        pooledKept = this;
        return;
      }
    }
    mem.close();
  }

  private clear(): void {
    this.i32.fill(0, 0, this.next * SLOT_WORDS);
    this.mem.header.i32.fill(0);
    this.mem.header.f64.fill(0);
    this.freeTop = 0;
    this.next = 0;
  }

  alloc(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop];
    if (this.next === this.mem.capacity) this.growTable();
    return this.next++;
  }

  release(slot: number): void {
    const base = slot * SLOT_WORDS;
    this.i32[base + F_ID] = 0;
    this.i32[base + F_STATE] = S_FREE;
    this.free[this.freeTop++] = slot;
  }

  private growTable(): void {
    this.mem.grow(this.mem.capacity * 2);
    this.i32 = this.mem.i32;
    this.f64 = this.mem.f64;
    const free = new Int32Array(this.mem.capacity);
    free.set(this.free.subarray(0, this.freeTop));
    this.free = free;
  }
}

let pooled: FiberTable | null = null;
let pooledKept: FiberTable | null = null;
