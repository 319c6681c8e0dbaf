/**
 * The fiber table in native memory: one region (header + slots) of the process-wide
 * table, viewed from JavaScript through koffi.view as plain typed arrays.
 *
 * Invariants:
 *  - Only this thread writes the region (plain stores, no native call per write); the
 *    monitor thread and dumps read it concurrently and tolerate torn slots.
 *  - The header view never moves. `grow` replaces `i32`/`f64` (callers re-read them);
 *    the old slot memory stays allocated until `close`, so a stale view cannot write
 *    into freed memory. After `close` every view of this object points at a detached
 *    scratch buffer instead of the freed region.
 *  - Native calls happen only here: create, grow, named spawn (putString/dropString),
 *    a new wait reason, close. Never per switch.
 *  - Wait-reason labels are per realm (each worker interns its own), so every region
 *    registers this realm's labels by id: all existing ones at creation, later ones
 *    through `onNewReason`.
 */
import { RiocoError, invalid } from '../../errors.js';
import { HEADER_BYTES, MAX_SLOTS, SLOT_BYTES, type TableMemory } from '../table.js';
import { onNewReason, reasons, type WaitReason } from '../waitReason.js';
import { RIOCO_EFULL, type NativeLib, type NativePointer } from './load.js';

/** Default number of slots of a new table (it doubles when full). */
export const DEFAULT_CAPACITY = 256;

/**
 * {@link TableMemory} whose bytes live in the native library, visible to its monitor
 * thread and to the SIGQUIT dump.
 * @internal
 */
export class NativeTableMemory implements TableMemory {
  readonly header: { i32: Int32Array; f64: Float64Array };
  i32: Int32Array;
  f64: Float64Array;
  capacity: number;
  private region: NativePointer | null;
  private readonly lib: NativeLib;
  private readonly onReason = (r: WaitReason): void => {
    if (this.region !== null) this.lib.fn.reasonSet(this.region, r.id, r.label);
  };

  constructor(lib: NativeLib, runtimeId: number, capacity = DEFAULT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_SLOTS) {
      throw invalid(`table capacity must be an integer in 1..${MAX_SLOTS}, got ${capacity}`);
    }
    this.lib = lib;
    const region = lib.fn.regionCreate(runtimeId | 0, capacity, performance.now(), lib.koffi.node.env);
    if (region === null) {
      throw new RiocoError('TABLE_FULL', `could not allocate a native fiber table of ${capacity} slots (out of memory)`);
    }
    this.region = region;
    const h = lib.koffi.view(lib.fn.regionHeader(region), HEADER_BYTES);
    this.header = { i32: new Int32Array(h), f64: new Float64Array(h) };
    this.capacity = capacity;
    const b = lib.koffi.view(lib.fn.regionSlots(region), capacity * SLOT_BYTES);
    this.i32 = new Int32Array(b);
    this.f64 = new Float64Array(b);
    for (const r of reasons) this.onReason(r);
    onNewReason.push(this.onReason);
  }

  /** The runtime id shown in dumps (for a table created before its runtime). */
  setRuntimeId(id: number): void {
    if (this.region !== null) this.lib.fn.regionSetRuntime(this.region, id | 0);
  }

  /**
   * Keep the region (slots already zeroed) for the next runtime of this thread: it is
   * marked runtime 0, which dumps leave out, until `setRuntimeId` names its new owner.
   * (Every name was dropped with its fiber, so the string area is empty too.)
   */
  keep(): boolean {
    if (this.region === null) return false;
    this.lib.fn.regionSetRuntime(this.region, 0);
    return true;
  }

  grow(capacity: number): void {
    const region = this.live();
    if (capacity <= this.capacity) return;
    if (capacity > MAX_SLOTS) {
      throw new RiocoError('TABLE_FULL', `fiber table is full (${MAX_SLOTS} live fibers); end fibers before spawning more`);
    }
    const rc = this.lib.fn.regionGrow(region, capacity);
    if (rc !== 0) {
      throw new RiocoError(
        'TABLE_FULL',
        rc === RIOCO_EFULL
          ? `fiber table is full (${MAX_SLOTS} live fibers); end fibers before spawning more`
          : `could not grow the native fiber table to ${capacity} slots (out of memory); the table is unchanged`,
      );
    }
    const b = this.lib.koffi.view(this.lib.fn.regionSlots(region), capacity * SLOT_BYTES);
    this.i32 = new Int32Array(b);
    this.f64 = new Float64Array(b);
    this.capacity = capacity;
  }

  putString(text: string): number {
    const id = this.lib.fn.stringPut(this.live(), text);
    if (id <= 0) throw new RiocoError('TABLE_FULL', 'could not store a fiber name in the native table (out of memory)');
    return id;
  }

  dropString(id: number): void {
    if (this.region !== null) this.lib.fn.stringDrop(this.region, id);
  }

  close(): void {
    const region = this.region;
    if (region === null) return;
    this.region = null;
    const i = onNewReason.indexOf(this.onReason);
    if (i >= 0) onNewReason.splice(i, 1);
    // Views of freed native memory must never be written: swap in scratch buffers first.
    const h = new ArrayBuffer(HEADER_BYTES);
    this.header.i32 = new Int32Array(h);
    this.header.f64 = new Float64Array(h);
    const b = new ArrayBuffer(SLOT_BYTES);
    this.i32 = new Int32Array(b);
    this.f64 = new Float64Array(b);
    this.capacity = 0;
    this.lib.fn.regionDestroy(region);
  }

  private live(): NativePointer {
    if (this.region === null) throw new RiocoError('RUNTIME_CLOSED', 'the native fiber table was closed');
    return this.region;
  }
}
