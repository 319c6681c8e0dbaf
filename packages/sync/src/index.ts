/**
 * Synchronization for Rioco fibers: channels (bounded, rendezvous, unbounded) with
 * `select`, a FIFO-fair {@link (Mutex:interface)}, {@link (RwLock:interface)},
 * {@link (Condvar:interface)}, {@link (Semaphore:interface)}, {@link (Barrier:interface)},
 * {@link (WaitGroup:interface)} and {@link (Once:interface)} / {@link lazy}.
 *
 * Every blocking method is an `Operation` consumed with `yield*`, completes without
 * parking when it can, and documents what cancellation leaves behind: no message lost
 * or duplicated, no lock held by a cancelled waiter. Waits are tagged with a wait reason
 * and target, and locks expose their holders, for deadlock reports and `@rioco/debug`.
 *
 * @packageDocumentation
 */
export { channel, CLOSED, EMPTY, type Channel, type ChannelOptions } from './Channel.js';
export {
  select,
  onTimeout,
  onDefault,
  type SelectCase,
  type RecvCase,
  type SendCase,
  type TimeoutCase,
  type DefaultCase,
  type SelectResult,
  type CaseValue,
} from './select.js';
export { Mutex, type MutexGuard, type MutexOptions } from './Mutex.js';
export { RwLock, type RwLockGuard } from './RwLock.js';
export { Condvar } from './Condvar.js';
export { Semaphore, type Permit, type SemaphoreOptions } from './Semaphore.js';
export { Barrier } from './Barrier.js';
export { WaitGroup } from './WaitGroup.js';
export { Once, lazy, type Lazy } from './Once.js';
export {
  ChannelClosedError,
  SendClosedError,
  NotOwnerError,
  OverReleaseError,
  NegativeCountError,
  type SyncErrorCode,
} from './errors.js';
