/**
 * The native library, seen from JavaScript: loading (load.ts), the fiber table in
 * native memory (tableMemory.ts), the monitor thread (monitor.ts) and the fiber dump
 * (dump.ts). See packages/core/native/README.md for what needs it and what happens
 * without it.
 */
import type { TableMemory } from '../table.js';
import { loadNative, tryLoadNative, type NativeLib } from './load.js';
import { NativeTableMemory, DEFAULT_CAPACITY } from './tableMemory.js';

export { loadNative, tryLoadNative, platformPackageName, devBuildPath, type NativeLib } from './load.js';
export { NativeTableMemory, DEFAULT_CAPACITY } from './tableMemory.js';
export { startMonitor, monitorThreadId, type MonitorOptions, type MonitorReport, type MonitorHandle } from './monitor.js';
export { dumpFibers, installDumpSignal, uninstallDumpSignal } from './dump.js';

/**
 * A fiber table in native memory for runtime `runtimeId` of this thread.
 * @throws {@link RiocoError} `NATIVE_UNAVAILABLE` when the library cannot load,
 *   `TABLE_FULL` when the memory cannot be allocated.
 * @internal
 */
export function createNativeTableMemory(runtimeId: number, capacity: number = DEFAULT_CAPACITY): TableMemory {
  return new NativeTableMemory(loadNative(), runtimeId, capacity);
}

/**
 * Used by run.ts: a maker of native tables when the library loads;
 * when it does not, the `NATIVE_UNAVAILABLE` error if `required`, else `undefined` (the
 * runtime falls back to an ArrayBuffer). The runtime id is set later with
 * `NativeTableMemory.setRuntimeId` (the runtime does not exist yet when this runs).
 * @internal
 */
export function nativeTableMemoryProvider(required: boolean): (() => TableMemory) | undefined {
  const lib: NativeLib | null = required ? loadNative() : tryLoadNative();
  if (lib === null) return undefined;
  // The runtime keeps or closes the memory itself (FiberTable.recycle).
  return () => new NativeTableMemory(lib, 0);
}
