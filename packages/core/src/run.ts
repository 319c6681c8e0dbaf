import type { Body } from './Operation.js';
import type { RootTask } from './Task.js';
import type { Clock } from './Clock.js';
import type { SchedulerHooks } from './Scheduler.js';
import { invalid } from './errors.js';
import { Runtime, checkBody, type Fiber } from './internal/runtime.js';
import { nativeTableMemoryProvider, startMonitor, NativeTableMemory, type MonitorHandle } from './internal/native/index.js';
import type { StallReport } from './Scheduler.js';

/**
 * Options of {@link run}.
 * @public
 */
export interface RunOptions {
  /** Name of the root fiber (default `'main'`). */
  name?: string;
  /** Clock of the runtime: a {@link VirtualClock} in tests. Default: real time. */
  clock?: Clock;
  /**
   * Use the seeded scheduler: ready fibers run in a random order that the seed fixes.
   * Defaults to the `RIOCO_SEED` environment variable when it is set.
   */
  seed?: number;
  /** Synchronous resumes a fiber may chain before it must yield (default 64; seeded: 1). */
  budget?: number;
  /** Observers of the scheduler (see {@link SchedulerHooks}). */
  hooks?: SchedulerHooks;
  /**
   * Keep the fiber table in the native library's memory, where the monitor thread and
   * the SIGQUIT dump ({@link installDumpSignal}) can read it. `true` fails with
   * `NATIVE_UNAVAILABLE` when the library cannot load; `'auto'` falls back to an
   * ArrayBuffer table. Default: `'auto'` when `RIOCO_NATIVE=1`, else `false`.
   */
  native?: boolean | 'auto';
  /**
   * Start the native monitor thread for this runtime (needs `native`): it reports a
   * fiber that runs longer than `stuckFiberMs` without yielding, and an event loop that
   * has not turned for `loopStallMs`, to the `stall` hook (or stderr without one).
   */
  monitor?: { stuckFiberMs?: number; loopStallMs?: number };
  /**
   * Check every wait on a target that names its holders (the locks of `@rioco/sync`:
   * `Mutex`, `RwLock`, `Semaphore`, `Once`) for a wait-for cycle through the parked
   * fibers: two fibers locking two mutexes in opposite orders, a fiber locking a mutex it
   * holds. The wait that would close one fails at once with a {@link LockCycleError}
   * naming the cycle, while the rest of the program runs on. Without it a cycle is
   * reported only once every fiber is stuck (a {@link DeadlockError}), which a server
   * with a listener never is. Only waits that cannot end without the fibers they wait
   * for count: a join, a parent's wait for its children, a lock with one holder or one
   * whose holders must all release (a `RwLock`'s readers). A semaphore wait that any of
   * several holders can end is not followed, so a cycle found is certain. A member of the cycle whose wait has a timeout would have
   * ended it later; the cycle is reported anyway (it is a bug either way). Costs a walk
   * along the holders on every wait that parks on such a target. Default `false`.
   * @example
   * ```ts
   * await run(server, { lockCycles: true });
   * ```
   */
  lockCycles?: boolean;
}

/**
 * Start a runtime whose root fiber runs `body`. Returns the root task at once; it is a
 * Promise of the body's value that settles when the body and all its children are done.
 *
 * @example
 * ```ts
 * import { run, spawn } from '@rioco/core';
 * const total = await run(function* () {
 *   const a = spawn(function* () { return 1; });
 *   const b = spawn(function* () { return 2; });
 *   return (yield* a) + (yield* b);
 * }); // 3
 * ```
 * @public
 */
export function run<T>(body: Body<T>, options: RunOptions = {}): RootTask<T> {
  return startRuntime(body, options).root as Fiber<T>;
}

/** @internal */
export function startRuntime<T>(body: Body<T>, options: RunOptions = {}): Runtime {
  if (options === null || typeof options !== 'object') throw invalid('run options must be an object');
  checkBody(body);
  let seed = options.seed;
  if (seed === undefined && process.env.RIOCO_SEED !== undefined && process.env.RIOCO_SEED !== '') {
    seed = Number(process.env.RIOCO_SEED);
    if (!Number.isInteger(seed)) throw invalid(`RIOCO_SEED must be an integer, got "${process.env.RIOCO_SEED}"`);
  }
  if (options.lockCycles !== undefined && typeof options.lockCycles !== 'boolean') {
    throw invalid(`lockCycles must be a boolean, got ${String(options.lockCycles)}`);
  }
  const native = options.native ?? (process.env.RIOCO_NATIVE === '1' ? 'auto' : false);
  if (native !== true && native !== false && native !== 'auto') throw invalid(`native must be true, false or 'auto'`);
  if (options.monitor !== undefined && native === false) {
    throw invalid('the monitor needs the native fiber table: pass native: true (or "auto" with the library built)');
  }
  const makeMem = native === false ? undefined : nativeTableMemoryProvider(native === true);
  if (options.monitor !== undefined && makeMem === undefined) {
    throw invalid('the monitor needs the native fiber table: pass native: true (or "auto" with the library built)');
  }
  if (options.monitor !== undefined) {
    for (const k of ['stuckFiberMs', 'loopStallMs'] as const) {
      const v = options.monitor[k] ?? 0;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`monitor.${k} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  let monitor: MonitorHandle | undefined;
  const rt = new Runtime({
    clock: options.clock,
    seed,
    budget: options.budget,
    hooks: options.hooks,
    tableMemory: makeMem,
    lockCycles: options.lockCycles,
    onClose: () => {
      monitor?.stop();
    },
  });
  if (rt.table.mem instanceof NativeTableMemory) rt.table.mem.setRuntimeId(rt.id);
  if (options.monitor !== undefined) {
    const { stuckFiberMs = 0, loopStallMs = 0 } = options.monitor;
    monitor = startMonitor({
      stuckMs: stuckFiberMs,
      loopStallMs,
      onReport: (r) => {
        if (r.runtimeId !== 0 && r.runtimeId !== rt.id) return;
        const report: StallReport = { kind: r.kind, fiberId: r.fiberId, ms: r.ms };
        rt.reportStallHook(report);
      },
    });
  }
  rt.spawnRoot(body, options.name ?? 'main');
  return rt;
}
