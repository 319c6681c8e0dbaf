import type { Body, Operation } from './Operation.js';
import type { SpawnOptions, Task } from './Task.js';
import type { FiberInfo, Resume, Scheduler, SuspendOptions, Teardown } from './Scheduler.js';
import { RiocoError } from './errors.js';
import {
  currentFiberUnsafe,
  makeSuspension,
  markSupervisor,
  opState,
  requireFiber,
  yieldNowOp,
  type Fiber,
} from './internal/runtime.js';
import { internReason, type WaitReason } from './internal/waitReason.js';

/**
 * Start a child fiber of the current fiber and return its {@link Task} at once.
 *
 * @remarks
 * The child is structured: its parent finishes only after it, and cancels it (children in
 * reverse spawn order) when the parent is cancelled or fails. If the child fails, the
 * error cancels the parent and its siblings and is rethrown from the parent, unless the
 * parent runs in a {@link supervisor} scope. Pass a generator object (`spawn(work(x))`)
 * or a function with `args` (`spawn(work, { args: [x] })`) to avoid a closure per spawn.
 *
 * @example
 * ```ts
 * function* handle(conn: Conn): Operation<void> { … }
 * const task = spawn(handle, { args: [conn], name: 'conn' });
 * yield* task;
 * ```
 * @throws {@link RiocoError} `NO_CURRENT_FIBER` outside a fiber; {@link InvalidArgumentError}
 *   for a body that is not an operation or a priority outside 0..7.
 * @public
 */
export function spawn<T, A extends readonly unknown[] = []>(body: Body<T, A>, options?: SpawnOptions<A>): Task<T> {
  const parent = currentFiberUnsafe();
  if (parent === undefined) {
    throw new RiocoError('NO_CURRENT_FIBER', 'spawn() must be called from inside a fiber; start one with run(function* () { … })');
  }
  return parent.rt.spawnChild(parent, body, options);
}

/**
 * Park the current fiber until `register`'s `resume` is called. The one primitive that
 * timers, sync and I/O are built on.
 *
 * @remarks
 * `register(resume)` runs at once; it arranges a later `resume.ok(value)` or
 * `resume.fail(error)` (or calls one right away) and may return a teardown that runs if
 * the fiber is cancelled before it is resumed: a function, or an object with a
 * `cancel()` method (a `TimerHandle`, or the wait's own record, so a park needs no
 * closure). Only the first resume counts.
 *
 * @example
 * ```ts
 * function* once<T>(emitter: EventEmitter, event: string): Operation<T> {
 *   return yield* suspend<T>((resume) => {
 *     emitter.once(event, resume.ok);
 *     return () => emitter.off(event, resume.ok);
 *   }, { reason: `event ${event}` });
 * }
 * ```
 * @public
 */
export function suspend<T>(register: (resume: Resume<T>) => Teardown | void, options?: SuspendOptions): Operation<T> {
  return makeSuspension(register, options);
}

/**
 * Let other ready fibers run, then continue.
 * @example
 * ```ts
 * for (const item of bigList) { process(item); yield* yieldNow(); }
 * ```
 * @public
 */
export function yieldNow(): Operation<void> {
  return yieldNowOp();
}

/**
 * Create (or look up) an interned wait reason: create it once at module load and pass
 * it to {@link suspend}, so a park stores a small integer instead of a string.
 * @example
 * ```ts
 * const RECV = waitReason('channel.recv');
 * yield* suspend(register, { reason: RECV, internal: true });
 * ```
 * @public
 */
export function waitReason(label: string): WaitReason {
  if (typeof label !== 'string' || label === '') throw new RiocoError('INVALID_ARGUMENT', 'waitReason needs a non-empty label');
  return internReason(label);
}

/**
 * Run `body` in a scope whose children fail alone: a child's error goes to whoever
 * joins it (or to the `unhandledError` hook), and does not cancel the scope or its
 * siblings. Returns the body's value once the body and all children are done.
 *
 * @example
 * ```ts
 * yield* supervisor(function* () {
 *   for (const job of jobs) spawn(runJob, { args: [job] }); // one failing job does not stop the rest
 * });
 * ```
 * @public
 */
export function supervisor<T>(body: Body<T>): Operation<T> {
  return {
    *[Symbol.iterator]() {
      const parent = requireFiber('supervisor()');
      const scope: Fiber<T> = parent.rt.spawnChild<T, []>(parent, body, { name: 'supervisor' });
      markSupervisor(scope);
      return yield* scope;
    },
  };
}

/**
 * How a blocking operation that starts now should run, for primitives built on core
 * (`@rioco/sync`'s locks and channels use it on every operation). One field read:
 * - {@link OperationMode.fast}: under the default scheduler. Complete at once when the
 *   operation can, without a trip through the scheduler.
 * - {@link OperationMode.schedulingPoint}: under the seeded scheduler. Go through the
 *   scheduler (yield, or park and be resumed at once) even when the operation could
 *   complete, so a seed can reorder it.
 * - {@link OperationMode.none}: no scheduler's loop is running. Outside a fiber, call
 *   {@link useScheduler} to fail with `NO_CURRENT_FIBER`.
 *
 * The mode is the running loop's, so code the loop runs between fibers (hooks, a
 * primitive's register function) sees it too; blocking operations belong in fibers.
 * @example
 * ```ts
 * function* take(slot: Slot): Operation<number> {
 *   if (operationMode() === OperationMode.fast && slot.full) return slot.take();
 *   return yield* slot.wait(); // parks, or goes through the scheduler (seeded)
 * }
 * ```
 * @beta
 */
export function operationMode(): OperationModeValue {
  return opState.mode as OperationModeValue;
}

/**
 * The values {@link operationMode} returns.
 * @example
 * ```ts
 * if (operationMode() === OperationMode.schedulingPoint) yield* yieldNow();
 * ```
 * @beta
 */
export const OperationMode = { none: 0, fast: 1, schedulingPoint: 2 } as const;

/**
 * One of {@link OperationMode}'s values.
 * @beta
 */
export type OperationModeValue = (typeof OperationMode)[keyof typeof OperationMode];

/**
 * The scheduler running the current fiber.
 * @example
 * ```ts
 * const s = useScheduler(); const t0 = s.clock.now();
 * ```
 * @public
 */
export function useScheduler(): Scheduler {
  return requireFiber('useScheduler()').rt;
}

/**
 * The fiber running now, or `undefined` outside fibers.
 * @example
 * ```ts
 * console.log(currentFiber()?.id);
 * ```
 * @public
 */
export function currentFiber(): FiberInfo | undefined {
  return currentFiberUnsafe();
}
