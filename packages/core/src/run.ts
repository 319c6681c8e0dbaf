import type { Body } from './Operation.js';
import type { Task } from './Task.js';
import type { Clock } from './Clock.js';
import type { SchedulerHooks } from './Scheduler.js';
import { invalid } from './errors.js';
import { Runtime, type Fiber } from './internal/runtime.js';
import { nativeTableMemoryFor } from './internal/nativeHook.js';

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
   * the SIGQUIT dump can read it. `true` fails when the library cannot load; `'auto'`
   * falls back to an ArrayBuffer. Default: `'auto'` when `RIOCO_NATIVE=1`, else `false`.
   */
  native?: boolean | 'auto';
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
export function run<T>(body: Body<T>, options: RunOptions = {}): Task<T> {
  return startRuntime(body, options).root as Fiber<T>;
}

/** @internal */
export function startRuntime<T>(body: Body<T>, options: RunOptions = {}): Runtime {
  if (options === null || typeof options !== 'object') throw invalid('run options must be an object');
  let seed = options.seed;
  if (seed === undefined && process.env.RIOCO_SEED !== undefined && process.env.RIOCO_SEED !== '') {
    seed = Number(process.env.RIOCO_SEED);
    if (!Number.isInteger(seed)) throw invalid(`RIOCO_SEED must be an integer, got "${process.env.RIOCO_SEED}"`);
  }
  const native = options.native ?? (process.env.RIOCO_NATIVE === '1' ? 'auto' : false);
  const mem = native === false ? undefined : nativeTableMemoryFor(native === true);
  const rt = new Runtime({
    clock: options.clock,
    seed,
    budget: options.budget,
    hooks: options.hooks,
    tableMemory: mem?.memory,
    onClose: mem?.close,
  });
  rt.spawnRoot(body, options.name ?? 'main');
  return rt;
}
