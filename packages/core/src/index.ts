/**
 * Fibers for TypeScript: spawn/join, structured cancellation that always runs cleanup,
 * priorities, fiber-locals, promise interop, and the {@link Scheduler} interface the
 * other `@rioco/*` packages build on.
 *
 * @packageDocumentation
 */
export type { Operation, Instruction, Body } from './Operation.js';
export type { Task, RootTask, SpawnOptions } from './Task.js';
export { Priority } from './Task.js';
export type {
  Scheduler,
  SchedulerHooks,
  Resume,
  SuspendOptions,
  Teardown,
  WakeSource,
  FiberInfo,
  TimerHandle,
  StallReport,
} from './Scheduler.js';
export type { Clock } from './Clock.js';
export { RealClock, VirtualClock } from './Clock.js';
export { run, type RunOptions } from './run.js';
export { main } from './main.js';
export { spawn, suspend, yieldNow, supervisor, useScheduler, currentFiber, waitReason, operationMode, OperationMode } from './spawn.js';
export type { OperationModeValue } from './spawn.js';
export { wait, useAbortSignal } from './interop.js';
export { ensure } from './ensure.js';
export { timerWait, type TimerWaitOptions } from './timerWait.js';
export { FiberLocal } from './FiberLocal.js';
export { useScope, createScope, type Scope, type DetachedScope } from './Scope.js';
export {
  RiocoError,
  InvalidArgumentError,
  CancelledError,
  DeadlockError,
  LockCycleError,
  LeakError,
  type CoreErrorCode,
  type ParkedFiberInfo,
} from './errors.js';
export { runTest, forEachSeed } from './testing.js';
export { dumpFibers, installDumpSignal, uninstallDumpSignal } from './native.js';
export {
  socketReactor,
  errnoName,
  Readiness,
  ListenFlags,
  StreamFlags,
  Family,
  type SocketReactor,
  type ReadinessListener,
} from './SocketReactor.js';
export { Suspension } from './internal/suspension.js';
export { WaitReason } from './internal/waitReason.js';
