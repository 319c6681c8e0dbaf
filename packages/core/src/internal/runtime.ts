/**
 * The runtime: fibers, the run loop, cancellation, wake-source accounting.
 *
 * A fiber's continuation is an iterator (normally a generator). The run loop `step`s a
 * ready fiber: it calls `next`/`throw`/`return` on it until the fiber yields a
 * Suspension (park), finishes, or spends its operation budget.
 *
 * Fiber lifecycle (st):
 *   READY -> RUNNING -> PARKED -> READY ...          the body runs and parks
 *   RUNNING -> CHILDREN -> DONE                      body ended; waits for children
 *   RUNNING -> DONE                                  body ended, no children
 *
 * Flags:
 *   CANCEL    cancellation requested (never cleared)
 *   CLEANING  return() has been delivered: the fiber runs its finally blocks and can
 *             not be cancelled again
 *   BODY_DONE the body's iterator finished (returned or threw)
 *
 * Cancellation is sequential and reverse-ordered: cancelling a fiber tears down its
 * current wait at once (so a dying fiber is never handed a lock or a message), then
 * cancels its last child; each child that finishes cancels the next-to-last, and when
 * none is left the fiber itself gets `return()` at its suspension point. So finalizers
 * run once, children before parents, later siblings before earlier ones, under any
 * scheduler, the seeded one included.
 *
 * Failure: an error that ends a fiber is recorded as its outcome; unless its parent is a
 * supervisor the parent records the same error (first one wins) and is cancelled, so
 * the error travels up to whoever joins the topmost failed fiber, unwrapped.
 *
 * Resume safety: every park bumps `epoch`; a Resume remembers the epoch it was made
 * for and does nothing once it differs (already resumed, cancelled, or re-parked).
 *
 * Only the runtime's own thread touches any of this.
 */
import {
  CancelledError,
  DeadlockError,
  LockCycleError,
  RiocoError,
  invalid,
  type ParkedFiberInfo,
} from '../errors.js';
import type { Body } from '../Operation.js';
import type { RootTask, SpawnOptions, Task } from '../Task.js';
import type { FiberLocal } from '../FiberLocal.js';
import type {
  FiberInfo,
  Resume,
  Scheduler,
  SchedulerHooks,
  StallReport,
  SuspendOptions,
  Teardown,
  TimerHandle,
  WakeSource,
} from '../Scheduler.js';
import { RealClock, type Clock } from '../Clock.js';
import { Suspension, RESUMED, DONE } from './suspension.js';
import {
  internReason,
  REASON_CHILDREN,
  REASON_JOIN,
  REASON_YIELD,
  REASON_SUSPEND,
  REASON_TIMER,
  reasons,
  WaitReason,
} from './waitReason.js';
import { PriorityQueue, SeededQueue, type ReadyQueue } from './readyQueue.js';
import { TimerQueue, type TimerEntry } from './timerQueue.js';
import {
  FiberTable,
  type TableMemory,
  SLOT_WORDS,
  F_ID,
  F_STATE,
  F_PRIORITY,
  F_PARENT,
  F_REASON,
  F_NAME,
  F_RUNTIME,
  F_FLAGS,
  D_SPAWNED,
  D_SINCE,
  D_SWITCHES,
  H_CURRENT,
  H_LIVE,
  HD_SWITCH_SEQ,
  HD_HEARTBEAT,
  S_READY,
  S_RUNNING,
  S_PARKED,
  S_CHILDREN,
  S_DONE,
  STATE_NAMES,
} from './table.js';

// ---- flags -------------------------------------------------------------------------
const CANCEL = 1;
const CLEANING = 2;
const BODY_DONE = 4;
const STARTED = 8;
/** The body's iterator is a plain generator: resume it through GEN_NEXT (see step). */
const GENERATOR = 32;
const SUPERVISOR = 16;
const EXTERNAL = 128;
const OBSERVED = 256;
const MODE_SHIFT = 16;
const OUTCOME_SHIFT = 18;

// ---- resume modes --------------------------------------------------------------------
const M_NEXT = 0;
const M_THROW = 1;
const M_RETURN = 2;

// ---- outcomes ------------------------------------------------------------------------
const O_PENDING = 0;
const O_OK = 1;
const O_ERR = 2;
const O_CANCELLED = 3;

/** Default operation budget: synchronous resumes a fiber may chain before it yields. */
export const DEFAULT_BUDGET = 64;
/** Steps between checks of the time slice, and the slice after which I/O gets a turn. */
const SLICE_STEPS = 512;
const SLICE_MS = 4;

const DEFAULT_PRIORITY = 4;

const RESOLVED = Promise.resolve();

/**
 * %GeneratorPrototype% and its `next`. Every generator function gives its generators a
 * map of their own, so `it.next` in the run loop turns megamorphic in any real program
 * (many fiber bodies); calling this one function directly keeps the resume monomorphic.
 */
const GEN_PROTO = Object.getPrototypeOf(function* () {}).prototype as { next: unknown };
const GEN_NEXT = GEN_PROTO.next as (this: AnyIterator, v: unknown) => IteratorResult<unknown, unknown>;

let nextFiberId = 1;
let nextRuntimeId = 1;

/** The fiber running now, across all runtimes of this thread. */
let current: Fiber<unknown> | undefined;

/**
 * How an operation starting now runs (see `operationMode()` in spawn.ts): 0 outside a
 * run loop, 1 in a default runtime's, 2 in a seeded one's. A field of a constant object,
 * set once per run of the loop (saved and restored around it, for nested runtimes), so
 * an operation reads it with one load.
 */
export const opState = { mode: 0 };


type AnyIterator = Iterator<unknown, unknown, unknown>;

interface Joiner {
  resume: Resume<unknown>;
  /** halt(): resolve with undefined instead of the outcome. */
  quiet: boolean;
}

interface Deferred {
  promise: Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Lazily allocated, rarely used per-fiber state (keeps parked fibers small). */
class FiberExtras {
  name: string | undefined = undefined;
  /** ensure() cleanups, run last-in first-out when the fiber finishes; null = removed. */
  finalizers: ((() => void) | null)[] | null = null;
  error: unknown = undefined;
  joiners: Joiner[] | null = null;
  deferred: Deferred | null = null;
  abort: AbortController | null = null;
}

class ResumeHandle<T> implements Resume<T> {
  private readonly f: Fiber<unknown>;
  epoch: number;
  constructor(f: Fiber<unknown>, epoch: number) {
    this.f = f;
    this.epoch = epoch;
  }
  ok(value: T): void {
    const f = this.f;
    if (f.epoch !== this.epoch) return;
    f.rt.resumeFiber(f, M_NEXT, value);
  }
  fail(error: unknown): void {
    const f = this.f;
    if (f.epoch !== this.epoch) return;
    f.rt.resumeFiber(f, M_THROW, error);
  }
}

/**
 * Shared iterator for joining a finished task. `yield*` calls next() right after
 * [Symbol.iterator]() and reads the result at once, so one mutable object is safe.
 */
const FINISHED = {
  result: { done: true as const, value: undefined as unknown },
  next(): { done: true; value: unknown } {
    const r = this.result;
    return r;
  },
};

/** What a cancelled fiber waits on until its children have finished. */
const CHILDREN_WAIT = new Suspension<unknown>(null, REASON_CHILDREN, undefined, false);

const YIELD_NOW = new Suspension<void>(null, REASON_YIELD, undefined, false);
export function yieldNowOp(): Suspension<void> {
  return YIELD_NOW;
}

/**
 * What a timer wait yields: park() reads the wait from `pendingTimer`, which the
 * operation's next() sets right before yielding (park runs synchronously after it, so
 * one shared instruction serves every timer wait of the thread).
 *
 * Code that wraps the instructions of an operation (timeout()'s driver re-yields each
 * wait as its own Suspension and registers the original with a proxy resume) goes
 * through `register` instead: the general protocol, with a callback timer and a
 * closure, also synchronous with the yield.
 */
let pendingTimer: TimerWaitOp | null = null;
/** The runtime of the fiber that set `pendingTimer`. */
let pendingTimerRt: Runtime | null = null;
function registerTimer(resume: Resume<void>): Teardown {
  const w = pendingTimer as TimerWaitOp;
  const rt = pendingTimerRt as Runtime;
  pendingTimer = null;
  pendingTimerRt = null;
  const at = w.relative ? rt.clock.now() + w.t : w.t;
  return rt.addTimer(at, () => resume.ok(), w.ref);
}
const TIMER_WAIT = new Suspension<void>(registerTimer, REASON_TIMER, undefined, false);

/**
 * A timer wait: parks the fiber until the clock reads `t` (or `t` ms after the wait
 * starts, when `relative`), as one entry of the runtime's timer queue that resumes the
 * fiber itself — no closure, no resume handle. Stateless (the resume token tells the
 * second next() from the first), so one value can be run by many fibers at once.
 */
export class TimerWaitOp implements Iterator<Suspension<unknown>, void, unknown> {
  readonly t: number;
  readonly relative: boolean;
  readonly ref: boolean;
  constructor(t: number, relative: boolean, ref: boolean) {
    this.t = t;
    this.relative = relative;
    this.ref = ref;
  }
  [Symbol.iterator](): this {
    if (current === undefined) {
      throw new RiocoError('NO_CURRENT_FIBER', 'a timer wait (sleep) must run inside a fiber: yield* it from run() or spawn()');
    }
    return this;
  }
  next(token?: unknown): IteratorResult<Suspension<unknown>, void> {
    if (token === RESUMED) return DONE as IteratorResult<Suspension<unknown>, void>;
    pendingTimer = this;
    pendingTimerRt = (current as Fiber<unknown>).rt;
    return TIMER_WAIT;
  }
  return(): IteratorResult<Suspension<unknown>, void> {
    return { done: true, value: undefined };
  }
  throw(error: unknown): never {
    throw error;
  }
}

/**
 * A fiber. It is also the Task handed to users (one object per fiber).
 */
export class Fiber<T> implements RootTask<T>, FiberInfo {
  readonly id: number;
  readonly rt: Runtime;
  readonly parent: Fiber<unknown> | null;
  slot: number;
  priority: number;
  st = S_READY;
  /** Flag bits, plus the resume mode (MODE_SHIFT) and the outcome (OUTCOME_SHIFT). */
  flags = 0;
  epoch = 0;
  /**
   * One slot, four lives (a field less on every fiber): the body's arguments before it
   * starts; while PARKED, what undoes the wait (the register's teardown, or a timer
   * wait's entry; undefined on children); the resume value while READY; the result once
   * DONE with O_OK. Each transition overwrites what the previous state kept.
   */
  value: unknown = undefined;
  /** The body before the fiber starts (flag STARTED clear), then its iterator. */
  iter: AnyIterator | Body<T, readonly unknown[]> | null;
  wait: Suspension<unknown> | null = null;
  lastChild: Fiber<unknown> | null = null;
  prevSibling: Fiber<unknown> | null = null;
  nextSibling: Fiber<unknown> | null = null;
  locals: Map<FiberLocal<unknown>, unknown> | null;
  x: FiberExtras | null = null;
  /** The Resume handed to `reuseResume` suspensions: one per fiber, re-aimed at every park. */
  handle: ResumeHandle<unknown> | null = null;

  constructor(
    rt: Runtime,
    parent: Fiber<unknown> | null,
    body: Body<T, readonly unknown[]>,
    args: readonly unknown[] | undefined,
    priority: number,
    name: string | undefined,
    locals: Map<FiberLocal<unknown>, unknown> | null,
  ) {
    this.id = nextFiberId++;
    this.rt = rt;
    this.parent = parent;
    this.iter = body;
    this.priority = priority;
    this.locals = locals;
    this.slot = rt.table.alloc();
    // The body's arguments wait in `value` until it starts (nothing else uses it before).
    this.value = args;
    if (name !== undefined) (this.x = new FiberExtras()).name = name;
  }

  // Rarely used state lives in FiberExtras or in flag bits, so a parked fiber stays small.
  get name(): string | undefined {
    return this.x === null ? undefined : this.x.name;
  }
  get error(): unknown {
    return this.x === null ? undefined : this.x.error;
  }
  set error(e: unknown) {
    (this.x ??= new FiberExtras()).error = e;
  }
  get mode(): number {
    return (this.flags >>> MODE_SHIFT) & 3;
  }
  set mode(m: number) {
    this.flags = (this.flags & ~(3 << MODE_SHIFT)) | (m << MODE_SHIFT);
  }
  get outcome(): number {
    return (this.flags >>> OUTCOME_SHIFT) & 3;
  }
  set outcome(o: number) {
    this.flags = (this.flags & ~(3 << OUTCOME_SHIFT)) | (o << OUTCOME_SHIFT);
  }

  // ---- FiberInfo -------------------------------------------------------------------
  get state(): string {
    return STATE_NAMES[this.st];
  }
  get parentId(): number {
    return this.parent === null ? 0 : this.parent.id;
  }
  get waitingOn(): string | undefined {
    if (this.st === S_CHILDREN) return REASON_CHILDREN.label;
    if (this.st !== S_PARKED || this.wait === null) return undefined;
    return this.wait.reason.label;
  }
  get waitTarget(): object | undefined {
    return this.st === S_PARKED && this.wait !== null ? this.wait.target : undefined;
  }

  // ---- Task ------------------------------------------------------------------------
  get cancelRequested(): boolean {
    return (this.flags & CANCEL) !== 0;
  }

  get done(): boolean {
    return this.st === S_DONE;
  }

  cancel(): void {
    this.rt.cancelFiber(this);
  }

  halt(): Suspension<void> {
    this.cancel();
    return this.rt.joinOp(this, true) as Suspension<void>;
  }

  [Symbol.iterator](): Iterator<Suspension<unknown>, T, unknown> {
    if (this.st === S_DONE && this.outcome === O_OK && (current === undefined || current.rt === this.rt)) {
      // Joining a finished task: no suspension, no allocation (see FINISHED).
      FINISHED.result.value = this.value;
      return FINISHED as unknown as Iterator<Suspension<unknown>, T, unknown>;
    }
    return (this.rt.joinOp(this, false) as unknown as Suspension<T>)[Symbol.iterator]();
  }

  [Symbol.dispose](): void {
    this.cancel();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    return this.settledPromise().then(
      () => undefined,
      () => undefined,
    );
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return (this.settledPromise() as Promise<T>).then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return (this.settledPromise() as Promise<T>).catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return (this.settledPromise() as Promise<T>).finally(onfinally);
  }

  get [Symbol.toStringTag](): string {
    return 'Task';
  }

  toString(): string {
    return `Task#${this.id}${this.name ? `(${this.name})` : ''}`;
  }

  /** The promise that settles with the outcome; created on first use. */
  settledPromise(): Promise<unknown> {
    const x = (this.x ??= new FiberExtras());
    this.flags |= OBSERVED;
    if (x.deferred === null) {
      let resolve!: (v: unknown) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      x.deferred = { promise, resolve, reject };
      if (this.st === S_DONE) settleDeferred(this, x.deferred);
    }
    return x.deferred.promise;
  }
}

function outcomeError(f: Fiber<unknown>): unknown {
  return f.outcome === O_ERR ? f.error : new CancelledError();
}

function settleDeferred(f: Fiber<unknown>, d: Deferred): void {
  if (f.outcome === O_OK) d.resolve(f.value);
  else d.reject(outcomeError(f));
}

export interface RuntimeOptions {
  clock?: Clock;
  /** Seeded scheduler: pick among ready fibers at random, reproducibly. */
  seed?: number;
  /** Operation budget (synchronous resumes in a row). The seeded scheduler uses 1. */
  budget?: number;
  hooks?: SchedulerHooks;
  /** Fiber table memory (the native one, or an ArrayBuffer by default). */
  tableMemory?: TableMemory | (() => TableMemory);
  /** Called when the runtime has finished and released everything. */
  onClose?: () => void;
  /** Fail a wait that closes a wait-for cycle (see RunOptions.lockCycles). */
  lockCycles?: boolean;
}

const liveRuntimes = new Set<Runtime>();
let beforeExitInstalled = false;

function onBeforeExit(): void {
  // The event loop is empty: nothing can wake a parked fiber any more.
  for (const rt of [...liveRuntimes]) rt.reportStall('the event loop is empty');
}

class WakeRef implements WakeSource {
  private rt: Runtime | null;
  readonly ref: boolean;
  constructor(rt: Runtime, ref: boolean) {
    this.rt = rt;
    this.ref = ref;
  }
  release(): void {
    const rt = this.rt;
    if (rt === null) return;
    this.rt = null;
    if (this.ref) rt.refs--;
    else rt.unrefs--;
    rt.afterRelease();
  }
}

export class Runtime implements Scheduler {
  readonly id = nextRuntimeId++;
  readonly kind: 'default' | 'seeded';
  /** opState.mode while this runtime's fibers run. */
  private readonly opMode: number;
  readonly seed: number | undefined;
  readonly clock: Clock;
  readonly table: FiberTable;
  private readonly queue: ReadyQueue<Fiber<unknown>>;
  private readonly budget: number;
  private readonly timers = new TimerQueue();
  private hooks: SchedulerHooks[] | null = null;
  root: Fiber<unknown> | null = null;
  live = 0;
  /** Wake sources that keep the program alive (ref'd timers, external waits, sockets). */
  refs = 0;
  /** Wake sources that do not keep it alive (unref'd timers, unref'd sockets). */
  unrefs = 0;
  private scheduled = false;
  private draining = false;
  private closed = false;
  /** Coarse time: one clock read per drain, written into the table on state changes. */
  private coarseNow = 0;
  private readonly drainFn = (): void => this.drain();
  private readonly fireTimersFn = (): void => this.fireTimers();
  private readonly onClose: (() => void) | undefined;
  private stallReported = false;
  /**
   * Whether another thread reads the table (a native table: the monitor and the native
   * dump). Only then are the per-switch fields kept: state, wait reason, timestamps,
   * switch counters and the current fiber. An ArrayBuffer table has no reader but this
   * runtime, which keeps those on the Fiber objects, so it holds only what a slot is
   * created with (identity, priority, parent, name) and costs no store per switch.
   */
  private readonly shared: boolean;
  /** Live fibers by id, kept only when waits are checked for wait-for cycles (lockCycles). */
  private readonly byId: Map<number, Fiber<unknown>> | null;
  /**
   * Whether anything watches switches: a shared table, hooks or the cycle check. The
   * switch path tests this one field; only when it is set does it look at which.
   */
  private observed: boolean;
  /** The fiber whose suspension's register() is running (a resume now is synchronous). */
  private registering: Fiber<unknown> | null = null;
  private syncResumed = false;

  constructor(options: RuntimeOptions = {}) {
    this.clock = options.clock ?? new RealClock();
    const seed = options.seed;
    if (seed !== undefined) {
      if (!Number.isInteger(seed)) throw invalid(`seed must be an integer, got ${String(seed)}`);
      this.kind = 'seeded';
      this.opMode = 2;
      this.seed = seed;
      this.queue = new SeededQueue<Fiber<unknown>>(seed);
      this.budget = options.budget ?? 1;
    } else {
      this.kind = 'default';
      this.opMode = 1;
      this.seed = undefined;
      this.queue = PriorityQueue.acquire<Fiber<unknown>>();
      this.budget = options.budget ?? DEFAULT_BUDGET;
    }
    if (!Number.isInteger(this.budget) || this.budget < 1) {
      throw invalid(`budget must be an integer >= 1, got ${String(options.budget)}`);
    }
    const tm = options.tableMemory;
    // A maker of native memory: a region this thread kept from an earlier runtime, if any.
    this.table = typeof tm === 'function' ? FiberTable.acquireKept(tm) : FiberTable.acquire(tm);
    this.shared = tm !== undefined;
    if (options.hooks) this.hooks = [options.hooks];
    this.byId = options.lockCycles === true ? new Map() : null;
    this.observed = this.shared || this.hooks !== null || this.byId !== null;
    this.coarseNow = performance.now();
    this.onClose = options.onClose;
    this.timers.onChange = () => this.armClock();
    this.timers.onSettle = (e) => {
      if (e.ref) this.refs--;
      else this.unrefs--;
    };
    this.timers.fiberFired = (fiber, entry) => {
      const f = fiber as Fiber<unknown>;
      // Still parked on this very entry (a resume or cancellation replaces the teardown).
      if (f.st === S_PARKED && f.value === entry) this.resumeFiber(f, M_NEXT, undefined);
    };
    liveRuntimes.add(this);
    if (!beforeExitInstalled) {
      beforeExitInstalled = true;
      process.on('beforeExit', onBeforeExit);
    }
  }

  // ---- Scheduler interface ----------------------------------------------------------

  current(): FiberInfo | undefined {
    return current !== undefined && current.rt === this ? current : undefined;
  }

  suspend<T>(register: (resume: Resume<T>) => Teardown | void, options?: SuspendOptions): Suspension<T> {
    return makeSuspension(register, options);
  }

  spawn<T, A extends readonly unknown[] = []>(body: Body<T, A>, options?: SpawnOptions<A>): Task<T> {
    const parent = current;
    if (parent === undefined || parent.rt !== this) {
      throw new RiocoError('NO_CURRENT_FIBER', 'spawn() must be called from a fiber of this runtime (inside run()/main())');
    }
    return this.spawnChild(parent, body, options);
  }

  holdWakeSource(ref = true): WakeSource {
    if (ref) this.refs++;
    else this.unrefs++;
    return new WakeRef(this, ref);
  }

  setTimer(at: number, callback: () => void, options?: { ref?: boolean }): TimerHandle {
    if (typeof at !== 'number' || Number.isNaN(at)) throw invalid(`timer deadline must be a number, got ${String(at)}`);
    if (typeof callback !== 'function') throw invalid('timer callback must be a function');
    return this.addTimer(at, callback, options?.ref !== false);
  }

  /** Internal form of setTimer: returns the entry itself (one allocation less). */
  addTimer(at: number, target: (() => void) | object, ref: boolean): TimerEntry {
    if (ref) this.refs++;
    else this.unrefs++;
    return this.timers.add(at, target, ref);
  }

  addHooks(hooks: SchedulerHooks): () => void {
    (this.hooks ??= []).push(hooks);
    this.observed = true;
    return () => {
      if (this.hooks === null) return;
      const i = this.hooks.indexOf(hooks);
      if (i >= 0) this.hooks.splice(i, 1);
      if (this.hooks.length === 0) {
        this.hooks = null;
        this.observed = this.shared || this.byId !== null;
      }
    };
  }

  fibers(): FiberInfo[] {
    const out: FiberInfo[] = [];
    const visit = (f: Fiber<unknown>): void => {
      out.push(f);
      // Children are linked last to first; list them in spawn order.
      const kids: Fiber<unknown>[] = [];
      for (let c = f.lastChild; c !== null; c = c.prevSibling) kids.push(c);
      for (let i = kids.length - 1; i >= 0; i--) visit(kids[i]);
    };
    if (this.root !== null && this.root.st !== S_DONE) visit(this.root);
    return out;
  }

  // ---- spawning ---------------------------------------------------------------------

  spawnRoot<T>(body: Body<T, readonly unknown[]>, name?: string): Fiber<T> {
    checkBody(body);
    const f = new Fiber<T>(this, null, body, undefined, DEFAULT_PRIORITY, name, null);
    this.root = f;
    this.initFiber(f);
    return f;
  }

  spawnChild<T, A extends readonly unknown[]>(
    parent: Fiber<unknown>,
    body: Body<T, A>,
    options: SpawnOptions<A> | undefined,
  ): Fiber<T> {
    checkBody(body);
    let priority = parent.priority;
    let name: string | undefined;
    let locals = parent.locals;
    let args: readonly unknown[] | undefined;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) throw invalid('spawn options must be an object');
      if (options.priority !== undefined) priority = checkPriority(options.priority);
      if (options.name !== undefined) {
        if (typeof options.name !== 'string') throw invalid('spawn option "name" must be a string');
        name = options.name;
      }
      if (options.args !== undefined) {
        if (!Array.isArray(options.args)) throw invalid('spawn option "args" must be an array');
        if (typeof body !== 'function') throw invalid('spawn option "args" needs a function body');
        args = options.args;
      }
      if (options.locals !== undefined) {
        locals = new Map(locals ?? undefined);
        for (const [k, v] of options.locals) locals.set(k, v);
      }
    }
    const f = new Fiber<T>(this, parent, body as Body<T, readonly unknown[]>, args, priority, name, locals);
    const fu = f as Fiber<unknown>;
    // Link as the parent's last child.
    const last = parent.lastChild;
    fu.prevSibling = last;
    if (last !== null) last.nextSibling = fu;
    parent.lastChild = fu;
    this.initFiber(fu);
    return f;
  }

  private initFiber(f: Fiber<unknown>): void {
    const t = this.table;
    const i32 = t.i32;
    const base = f.slot * SLOT_WORDS;
    i32[base + F_STATE] = S_READY;
    i32[base + F_PRIORITY] = f.priority;
    i32[base + F_PARENT] = f.parent === null ? 0 : f.parent.id;
    i32[base + F_REASON] = 0;
    i32[base + F_NAME] = f.name === undefined ? 0 : t.mem.putString(f.name);
    i32[base + F_RUNTIME] = this.id;
    i32[base + F_FLAGS] = 0;
    const d = f.slot * 8;
    t.f64[d + D_SPAWNED] = this.coarseNow;
    t.f64[d + D_SINCE] = this.coarseNow;
    t.f64[d + D_SWITCHES] = 0;
    i32[base + F_ID] = f.id; // last: a reader sees a complete slot once ID is set
    this.live++;
    t.mem.header.i32[H_LIVE] = this.live;
    if (this.byId !== null) this.byId.set(f.id, f);
    if (this.hooks !== null) for (const h of this.hooks) h.spawn?.(f);
    this.enqueue(f);
  }

  // ---- the run loop -------------------------------------------------------------------

  private enqueue(f: Fiber<unknown>): void {
    f.st = S_READY;
    if (this.observed) this.observeReady(f);
    this.queue.push(f);
    if (!this.draining && !this.scheduled) this.schedule();
  }

  /** Run the loop soon: the queue was idle. Out of line (see wakeRare). */
  private schedule(): void {
    this.scheduled = true;
    // A resolved promise's then() is several times cheaper than queueMicrotask, which
    // allocates an AsyncResource per call in Node.
    void RESOLVED.then(this.drainFn);
  }

  private drain(): void {
    this.scheduled = false;
    if (this.closed) return;
    if (this.runReady()) this.checkIdle();
  }

  /**
   * Run ready fibers until none is left (true), or until the time slice is spent (false:
   * a setImmediate continues after the loop's I/O). Kept apart from drain() so the code
   * after the loop is not part of the loop's on-stack-replaced compilation, which ran it
   * without type feedback and deoptimized on every warm-up.
   */
  private runReady(): boolean {
    this.draining = true;
    // Reading the clock costs 50-80 ns, as much as a switch: an ArrayBuffer table (that
    // nothing outside reads) refreshes its coarse time every SLICE_STEPS steps only.
    let start = -1;
    if (this.shared) {
      start = this.coarseNow = performance.now();
      this.table.mem.header.f64[HD_HEARTBEAT] = start;
    }
    const saved = current;
    const savedMode = opState.mode;
    opState.mode = this.opMode;
    let n = 0;
    try {
      let f: Fiber<unknown> | undefined;
      while ((f = this.queue.shift()) !== undefined) {
        this.step(f);
        if (++n === SLICE_STEPS) {
          n = 0;
          const now = performance.now();
          this.coarseNow = now;
          if (start < 0) start = now;
          else if (now - start > SLICE_MS && this.queue.size > 0) {
            // Give I/O callbacks a turn; come back right after them.
            this.scheduled = true;
            setImmediate(this.drainFn);
            return false;
          }
        }
      }
    } finally {
      current = saved;
      opState.mode = savedMode;
      this.table.mem.header.i32[H_CURRENT] = 0;
      this.draining = false;
    }
    return true;
  }

  /** Run `f` until it parks, finishes or spends its budget. */
  private step(f: Fiber<unknown>): void {
    if ((f.flags & (CANCEL | CLEANING)) === CANCEL && !this.beginCleanup(f)) return;
    let budget = this.budget;
    for (;;) {
      f.st = S_RUNNING;
      if (this.observed) this.observeSwitch(f);
      current = f;
      let r: IteratorResult<unknown, unknown>;
      try {
        let it = f.iter as AnyIterator;
        if (!(f.flags & STARTED)) {
          if (f.flags & CLEANING) {
            // Cancelled before it ever ran: nothing to clean up.
            current = undefined;
            this.bodyReturned(f, undefined);
            return;
          }
          f.flags |= STARTED;
          it = f.iter = startBody(f);
          r = f.flags & GENERATOR ? GEN_NEXT.call(it, undefined) : it.next();
        } else if (f.mode === M_NEXT) {
          DONE.value = f.value;
          f.value = undefined;
          r = f.flags & GENERATOR ? GEN_NEXT.call(it, RESUMED) : it.next(RESUMED);
        } else if (f.mode === M_THROW) {
          f.mode = M_NEXT;
          const e = f.value;
          f.value = undefined;
          if (it.throw === undefined) throw e;
          r = it.throw(e);
        } else {
          f.mode = M_NEXT;
          r = it.return === undefined ? { done: true, value: undefined } : it.return(undefined);
        }
      } catch (e) {
        current = undefined;
        this.bodyThrew(f, e);
        return;
      }
      current = undefined;
      if (r.done === true) {
        this.bodyReturned(f, r.value);
        return;
      }
      if (!this.park(f, r.value)) return;
      if (--budget === 0) {
        this.enqueue(f);
        return;
      }
    }
  }

  /** The shared table's view of `f` becoming ready. */
  private observeReady(f: Fiber<unknown>): void {
    if (this.shared) this.table.i32[f.slot * SLOT_WORDS + F_STATE] = S_READY;
  }

  /** A watcher's view of `f` starting to run: the shared table's, the hooks'. */
  private observeSwitch(f: Fiber<unknown>): void {
    if (this.shared) this.markRunning(f);
    if (this.hooks !== null) for (const h of this.hooks) h.switch?.(f);
  }

  /** The shared table's view of `f` starting to run (see `shared`). */
  private markRunning(f: Fiber<unknown>): void {
    // Re-read the views each time: user code may have grown (moved) the table.
    const t = this.table;
    t.i32[f.slot * SLOT_WORDS + F_STATE] = S_RUNNING;
    // What the native monitor watches to see a fiber that never yields.
    t.f64[f.slot * 8 + D_SWITCHES]++;
    const header = t.mem.header;
    header.i32[H_CURRENT] = f.id;
    header.f64[HD_SWITCH_SEQ]++;
  }

  /**
   * Cancellation was requested and not yet delivered. Returns true when the fiber should
   * run now with `return()`; false when it waits for its children first.
   */
  private beginCleanup(f: Fiber<unknown>): boolean {
    if (f.lastChild !== null) {
      this.parkOnChildren(f);
      this.cancelFiber(f.lastChild);
      return false;
    }
    f.flags |= CLEANING;
    f.mode = M_RETURN;
    f.value = undefined;
    return true;
  }

  private parkOnChildren(f: Fiber<unknown>): void {
    f.st = S_PARKED;
    f.wait = CHILDREN_WAIT;
    f.value = undefined; // nothing to tear down
    f.epoch++;
    if (this.shared) this.markTable(f, S_PARKED, REASON_CHILDREN.id);
  }

  /**
   * The fiber yielded `instr`. Returns true when it can continue at once (the wait was
   * satisfied synchronously, or cancellation must be delivered), false when it parked.
   */
  private park(f: Fiber<unknown>, instr: unknown): boolean {
    if ((f.flags & (CANCEL | CLEANING)) === CANCEL) return this.beginCleanup(f);
    // step() leaves mode M_NEXT and value cleared after every resume.
    if (instr === YIELD_NOW) {
      this.enqueue(f);
      return false;
    }
    if (instr === TIMER_WAIT) {
      this.parkOnTimer(f, pendingTimer as TimerWaitOp);
      pendingTimer = null;
      pendingTimerRt = null;
      return false;
    }
    if (!(instr instanceof Suspension)) {
      f.mode = M_THROW;
      f.value = new RiocoError(
        'INVALID_YIELD',
        `a fiber yielded ${describe(instr)}; fibers must only \`yield*\` operations (yield* sleep(1), yield* task, …), never plain \`yield\``,
      );
      return true;
    }
    const s = instr as Suspension<unknown>;
    const epoch = this.markParked(f, s);
    this.registering = f;
    this.syncResumed = false;
    let td: Teardown | void = undefined;
    try {
      let h: ResumeHandle<unknown>;
      if (s.reuseResume) {
        // The waiter promises not to call it once the wait ended (see SuspendOptions.reuseResume).
        h = f.handle ??= new ResumeHandle(f, epoch);
        h.epoch = epoch;
      } else {
        h = new ResumeHandle(f, epoch);
      }
      td = (s.register as (r: Resume<unknown>) => Teardown | void)(h);
    } catch (e) {
      this.registering = null;
      if (f.epoch === epoch) {
        f.epoch++;
        f.st = S_RUNNING;
        f.wait = null;
        f.mode = M_THROW;
        f.value = e;
        return true;
      }
      // Resumed, then threw: the resume wins.
    }
    this.registering = null;
    if (this.syncResumed) {
      f.wait = null;
      return true;
    }
    f.value = td; // the teardown, while parked
    if (this.observed) return this.observePark(f, s);
    if (s.external) {
      f.flags |= EXTERNAL;
      this.refs++;
    }
    return false;
  }

  /**
   * The end of park() when something watches: fail a wait that closes a wait-for cycle
   * (true: the fiber continues with the error), else tell the hooks (false).
   */
  private observePark(f: Fiber<unknown>, s: Suspension<unknown>): boolean {
    if (this.byId !== null && s.target !== undefined) {
      const cycle = this.cycleThrough(f);
      if (cycle !== null) {
        // Waiting would never end: undo the wait as a cancellation would, and fail it.
        const err = new LockCycleError(cycle.map((id) => parkedInfo(id === f.id ? f : (this.byId as Map<number, Fiber<unknown>>).get(id) as Fiber<unknown>)));
        this.releaseWait(f);
        f.st = S_RUNNING;
        f.mode = M_THROW;
        f.value = err;
        return true;
      }
    }
    if (s.external) {
      f.flags |= EXTERNAL;
      this.refs++;
    }
    if (this.hooks !== null) for (const h of this.hooks) h.park?.(f, f.waitingOn as string);
    return false;
  }

  /**
   * The wait-for cycle that `f`, parked just now, closes: fiber ids from `f` on, each
   * waiting for the next and the last for `f`; null when none. Only parked fibers have
   * edges (one that runs or is ready can still release what it holds), and only edges a
   * wait cannot end without (see waitingFor's `mustAll`), so a cycle found is a deadlock.
   */
  private cycleThrough(f: Fiber<unknown>): number[] | null {
    const byId = this.byId as Map<number, Fiber<unknown>>;
    const from = new Map<number, number>(); // fiber id -> the fiber whose edge reached it
    const todo = [f.id];
    while (todo.length > 0) {
      const id = todo.pop() as number;
      const g = id === f.id ? f : byId.get(id);
      if (g === undefined || (g.st !== S_PARKED && g.st !== S_CHILDREN)) continue;
      for (const to of waitingFor(g, true)) {
        if (to === f.id) {
          const path = [id];
          for (let x = id; x !== f.id; ) path.push((x = from.get(x) as number));
          return path.reverse();
        }
        if (!from.has(to)) {
          from.set(to, id);
          todo.push(to);
        }
      }
    }
    return null;
  }

  /** Record that `f` parks on `s` (fiber and table); returns the new park's epoch. */
  private markParked(f: Fiber<unknown>, s: Suspension<unknown>): number {
    const epoch = ++f.epoch;
    f.wait = s;
    f.st = S_PARKED;
    if (this.observed && this.shared) this.markTable(f, S_PARKED, s.reason.id);
    return epoch;
  }

  /** The shared table's view of `f` entering `state` (see `shared`). */
  private markTable(f: Fiber<unknown>, state: number, reason: number): void {
    const base = f.slot * SLOT_WORDS;
    const i32 = this.table.i32;
    i32[base + F_STATE] = state;
    i32[base + F_REASON] = reason;
    this.table.f64[f.slot * 8 + D_SINCE] = this.coarseNow;
  }

  /** Park `f` on a timer entry that resumes it itself (see TimerWaitOp). */
  private parkOnTimer(f: Fiber<unknown>, w: TimerWaitOp): void {
    this.markParked(f, TIMER_WAIT);
    const at = w.relative ? this.clock.now() + w.t : w.t;
    // The entry itself is the wake source the runtime counts (ref'd or not): the wait
    // is internal, so virtual time can jump to it.
    f.value = this.addTimer(at, f, w.ref); // the teardown, while parked
    if (this.hooks !== null) for (const h of this.hooks) h.park?.(f, REASON_TIMER.label);
  }

  /** Called by a Resume whose epoch matched. */
  resumeFiber(f: Fiber<unknown>, mode: number, value: unknown): void {
    f.epoch++;
    f.mode = mode;
    f.value = value; // (replaces the teardown)
    if (this.registering === f) {
      this.syncResumed = true;
      return;
    }
    f.wait = null;
    if (this.observed || f.flags & EXTERNAL) this.wakeRare(f);
    this.enqueue(f);
  }

  /**
   * The rarer parts of a wake, out of line so the common one stays small enough for V8
   * to inline into the primitive that wakes (its inlining budget is counted in bytecode).
   */
  private wakeRare(f: Fiber<unknown>): void {
    if (f.flags & EXTERNAL) {
      f.flags &= ~EXTERNAL;
      this.refs--;
    }
    if (this.hooks !== null) for (const h of this.hooks) h.wake?.(f);
  }

  // ---- completion -------------------------------------------------------------------

  private bodyReturned(f: Fiber<unknown>, value: unknown): void {
    f.flags |= BODY_DONE;
    f.iter = null;
    if (f.outcome === O_PENDING) {
      if (f.flags & CLEANING) f.outcome = O_CANCELLED;
      else {
        f.outcome = O_OK;
        f.value = value;
      }
    }
    this.afterBody(f);
  }

  private bodyThrew(f: Fiber<unknown>, error: unknown): void {
    if (f.flags & CLEANING && error instanceof CancelledError && f.outcome === O_PENDING) {
      // Cleanup that had to wait unwinds the rest of the way by throwing CancelledError
      // (a return completion does not survive a `yield*` once the delegate has parked;
      // see Condvar.wait): the fiber was cancelled, it did not fail.
      this.bodyReturned(f, undefined);
      return;
    }
    f.flags |= BODY_DONE;
    f.iter = null;
    if (f.outcome !== O_ERR) {
      f.outcome = O_ERR;
      f.error = error;
      f.value = undefined;
    }
    if (f.lastChild !== null && !(f.flags & CANCEL)) {
      // A failed fiber's children are cancelled (in reverse order) before it completes.
      f.flags |= CANCEL;
    }
    this.afterBody(f);
  }

  private afterBody(f: Fiber<unknown>): void {
    if (f.lastChild === null) {
      this.finish(f);
      return;
    }
    f.st = S_CHILDREN;
    if (this.shared) this.markTable(f, S_CHILDREN, REASON_CHILDREN.id);
    // A fiber that failed (or was cancelled after its body ended) cancels its children;
    // children spawned by cleanup code (CLEANING) run to completion.
    if ((f.flags & (CANCEL | CLEANING)) === CANCEL) this.cancelFiber(f.lastChild);
  }

  private finish(f: Fiber<unknown>): void {
    const fin = f.x === null ? null : f.x.finalizers;
    if (fin !== null) this.runFinalizers(f, fin);
    f.st = S_DONE;
    f.iter = null;
    f.wait = null;
    const t = this.table;
    const base = f.slot * SLOT_WORDS;
    const nameId = t.i32[base + F_NAME];
    if (nameId !== 0) t.mem.dropString(nameId);
    t.release(f.slot);
    if (this.byId !== null) this.byId.delete(f.id);
    this.live--;
    t.mem.header.i32[H_LIVE] = this.live;
    if (this.hooks !== null) {
      const o = f.outcome === O_OK ? 'ok' : f.outcome === O_ERR ? 'error' : 'cancelled';
      for (const h of this.hooks) h.exit?.(f, o, f.error);
    }
    const p = f.parent;
    if (p !== null) {
      // Unlink from the parent.
      const prev = f.prevSibling;
      const next = f.nextSibling;
      if (prev !== null) prev.nextSibling = next;
      if (next === null) p.lastChild = prev;
      else next.prevSibling = prev;
      f.prevSibling = f.nextSibling = null;
    }
    const x = f.x;
    const joiners = x === null ? null : x.joiners;
    let handled = joiners !== null && joiners.length > 0;
    if (f.outcome === O_ERR && p !== null && !(p.flags & SUPERVISOR)) {
      this.failParent(p, f.error);
      handled = true;
    }
    if (joiners !== null) {
      x!.joiners = null;
      for (const j of joiners) {
        if (j.quiet || f.outcome === O_OK) j.resume.ok(j.quiet ? undefined : f.value);
        else j.resume.fail(outcomeError(f));
      }
    }
    if (x !== null && x.deferred !== null) {
      settleDeferred(f, x.deferred);
      handled = true;
    }
    if (f.outcome === O_ERR && !handled && p !== null && !(f.flags & OBSERVED)) {
      this.unhandled(f.error, f);
    }
    if (p !== null) this.childFinished(p);
    else this.rootFinished();
  }

  private runFinalizers(f: Fiber<unknown>, fin: ((() => void) | null)[]): void {
    (f.x as FiberExtras).finalizers = null;
    for (let i = fin.length - 1; i >= 0; i--) {
      const fn = fin[i];
      if (fn === null) continue;
      try {
        fn();
      } catch (e) {
        if (f.outcome !== O_ERR) {
          f.outcome = O_ERR;
          f.error = e;
          f.value = undefined;
        }
      }
    }
  }

  private childFinished(p: Fiber<unknown>): void {
    if ((p.flags & (CANCEL | CLEANING)) === CANCEL) {
      if (p.lastChild !== null) {
        this.cancelFiber(p.lastChild);
      } else if (p.flags & BODY_DONE) {
        this.finish(p);
      } else if (p.st === S_PARKED) {
        // Parked on its children: now deliver its own return().
        p.flags |= CLEANING;
        p.mode = M_RETURN;
        p.value = undefined;
        this.enqueue(p);
      }
      // READY or RUNNING: step/park deliver the return() when it next runs.
    } else if (p.lastChild === null && p.flags & BODY_DONE) {
      this.finish(p);
    }
  }

  private failParent(p: Fiber<unknown>, error: unknown): void {
    if (p.outcome !== O_ERR) {
      p.outcome = O_ERR;
      p.error = error;
      p.value = undefined;
    }
    this.cancelFiber(p);
  }

  /** A report of the native monitor, delivered on this thread. */
  reportStallHook(report: StallReport): void {
    if (this.hooks !== null && this.hooks.some((h) => h.stall)) {
      for (const h of this.hooks) h.stall?.(report);
    } else {
      const who = report.fiberId ? ` (fiber #${report.fiberId})` : '';
      console.error(`rioco: ${report.kind === 'stuck-fiber' ? 'a fiber ran' : 'the event loop stalled'} ${report.ms} ms without yielding${who}`);
    }
  }

  private unhandled(error: unknown, f: Fiber<unknown>): void {
    if (this.hooks !== null && this.hooks.some((h) => h.unhandledError)) {
      for (const h of this.hooks) h.unhandledError?.(error, f);
    } else {
      console.error(`rioco: unhandled error in supervised fiber ${f.toString()}:`, error);
    }
  }

  // ---- cancellation ---------------------------------------------------------------

  cancelFiber(f: Fiber<unknown>): void {
    if (f.st === S_DONE || f.flags & CANCEL) return;
    f.flags |= CANCEL;
    this.table.i32[f.slot * SLOT_WORDS + F_FLAGS] |= 2;
    const abort = f.x?.abort;
    if (abort) abort.abort(new CancelledError('the fiber was cancelled'));
    if (f.st === S_PARKED) {
      this.releaseWait(f);
      if (f.lastChild !== null) {
        this.parkOnChildren(f);
        this.cancelFiber(f.lastChild);
      } else {
        f.flags |= CLEANING;
        f.mode = M_RETURN;
        f.value = undefined;
        this.enqueue(f);
      }
    } else if (f.st === S_CHILDREN && f.lastChild !== null) {
      // (No child left: its last child is finishing right now and finish() completes it.)
      this.cancelFiber(f.lastChild);
    }
    // READY: step() delivers it; RUNNING (cancelled by its own code): park() does.
  }

  /** Tear down the current wait of a parked fiber (its resume becomes a no-op). */
  private releaseWait(f: Fiber<unknown>): void {
    f.epoch++;
    const td = f.value as Teardown | undefined;
    f.value = undefined;
    f.wait = null;
    if (f.flags & EXTERNAL) {
      f.flags &= ~EXTERNAL;
      this.refs--;
    }
    if (td !== null && td !== undefined) {
      try {
        if (typeof td === 'function') td();
        else if (typeof td.cancel === 'function') td.cancel(); // (else: not a teardown)
      } catch (e) {
        if (f.outcome !== O_ERR) {
          f.outcome = O_ERR;
          f.error = e;
        }
      }
    }
  }

  // ---- joins ------------------------------------------------------------------------

  joinOp(f: Fiber<unknown>, quiet: boolean): Suspension<unknown> {
    const me = current;
    if (me !== undefined && me.rt !== f.rt) {
      throw new RiocoError(
        'FOREIGN_TASK',
        `cannot join ${f.toString()}: it belongs to another runtime; use wait(task) to await it as a promise`,
      );
    }
    if (me === f && !quiet) {
      throw invalid(`${f.toString()} cannot join itself (it would wait forever)`);
    }
    return new Suspension<unknown>(
      (resume) => {
        if (f.st === S_DONE) {
          if (quiet || f.outcome === O_OK) resume.ok(quiet ? undefined : f.value);
          else resume.fail(outcomeError(f));
          return;
        }
        const x = (f.x ??= new FiberExtras());
        const j: Joiner = { resume, quiet };
        (x.joiners ??= []).push(j);
        return () => {
          const list = x.joiners;
          if (list === null) return;
          const i = list.indexOf(j);
          if (i >= 0) list.splice(i, 1);
        };
      },
      REASON_JOIN,
      f,
      false,
    );
  }

  // ---- timers, idleness, deadlock -------------------------------------------------------

  private armClock(): void {
    const top = this.timers.peek();
    if (top === undefined) this.clock.arm(null, this.fireTimersFn, false);
    else this.clock.arm(top.at, this.fireTimersFn, this.timers.refCount > 0);
  }

  private fireTimers(): void {
    if (this.closed) return;
    this.timers.fireDue(this.clock.now());
    this.afterRelease();
  }

  afterRelease(): void {
    if (!this.draining && !this.scheduled && this.queue.size === 0) this.checkIdle();
  }

  /** Nothing is ready. Decide whether time should jump, daemons end, or a deadlock be reported. */
  private checkIdle(): void {
    // Loops only while virtual time jumps and the timers it fires wake no fiber.
    for (let jumps = 0; ; jumps++) {
      if (this.closed || this.live === 0 || this.queue.size > 0 || this.scheduled) return;
      const timers = this.timers;
      const timerRefs = timers.refCount;
      if (this.refs > timerRefs) return; // I/O, promises, callbacks pending
      const root = this.root as Fiber<unknown>;
      // Virtual time jumps to the next timer when timers are all that is pending: ref'd
      // ones, or — while the root body still runs — unref'd ones (nothing else could
      // ever wake it; under a real clock the process would simply wait for them).
      const onlyUnrefTimers = this.unrefs > 0 && this.unrefs === timers.size - timerRefs && root.st !== S_CHILDREN;
      if (timerRefs > 0 || (this.clock.virtual && onlyUnrefTimers)) {
        if (!this.clock.virtual) return;
        if (jumps === 10_000) {
          // Timers that keep re-arming without waking a fiber: let the event loop breathe.
          setImmediate(() => this.checkIdle());
          return;
        }
        const at = (timers.peek() as TimerEntry).at; // read before firing
        this.clock.advanceTo?.(at);
        timers.fireDue(this.clock.now());
        continue;
      }
      if (this.unrefs > 0) {
        // Only unref'd sources: children of a finished root are daemons; end them.
        if (root.st === S_CHILDREN) this.cancelFiber(root);
        return;
      }
      this.reportStall();
      return;
    }
  }

  /** Fail the root with a DeadlockError naming every parked fiber. */
  reportStall(detail?: string): void {
    if (this.closed || this.live === 0) return;
    // Only unref'd sources pending at exit: like Node, let the program end quietly.
    if (detail !== undefined && this.refs === 0 && this.unrefs > 0) return;
    if (this.queue.size > 0 || this.draining || this.scheduled) return;
    const parked: ParkedFiberInfo[] = [];
    for (const fi of this.fibers()) {
      const f = fi as Fiber<unknown>;
      if (f.st === S_PARKED || f.st === S_CHILDREN) {
        parked.push(parkedInfo(f));
      }
    }
    const err = new DeadlockError(parked, detail);
    const root = this.root as Fiber<unknown>;
    if (this.stallReported || root.flags & CLEANING) {
      // Cleanup itself is stuck: abandon the fibers so the root settles.
      this.abandon(err);
      return;
    }
    this.stallReported = true;
    this.failParent(root, err);
    if (this.queue.size === 0 && !this.scheduled) this.checkIdle();
  }

  private abandon(err: unknown): void {
    const root = this.root as Fiber<unknown>;
    const all = this.fibers() as Fiber<unknown>[];
    const t = this.table;
    for (let i = all.length - 1; i >= 0; i--) {
      const f = all[i];
      if (f.st === S_PARKED) this.releaseWait(f);
      f.st = S_DONE;
      const nameId = t.i32[f.slot * SLOT_WORDS + F_NAME];
      if (nameId !== 0) t.mem.dropString(nameId);
      t.release(f.slot);
    }
    this.live = 0;
    if (root.outcome !== O_ERR) {
      root.outcome = O_ERR;
      root.error = err;
    }
    const joiners = root.x?.joiners;
    if (joiners) for (const j of joiners) j.resume.fail(err);
    if (root.x?.deferred) settleDeferred(root, root.x.deferred);
    this.rootFinished();
  }

  private rootFinished(): void {
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    liveRuntimes.delete(this);
    if (liveRuntimes.size === 0 && beforeExitInstalled) {
      beforeExitInstalled = false;
      process.off('beforeExit', onBeforeExit);
    }
    this.clock.arm(null, this.fireTimersFn, false);
    this.onClose?.();
    this.table.recycle();
    if (this.queue instanceof PriorityQueue) this.queue.release();
  }

  /** Pending timers (for the leak check of tests). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

// ---- helpers ----------------------------------------------------------------------------

/** Create the body's iterator; flags the fiber GENERATOR when `next` is GEN_NEXT. */
function startBody(f: Fiber<unknown>): AnyIterator {
  const body = f.iter as Body<unknown, readonly unknown[]>;
  f.iter = null;
  const args = f.value as readonly unknown[] | undefined;
  f.value = undefined;
  const op = typeof body === 'function' ? (args === undefined ? body() : body(...args)) : body;
  if (op !== null && typeof op === 'object' && isPlainGenerator(op)) {
    f.flags |= GENERATOR;
    return op as unknown as AnyIterator;
  }
  if (op === null || typeof op !== 'object' || typeof (op as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw invalid(`the spawned function returned ${describe(op)}, not an operation; write it as a generator function (function* () { … })`);
  }
  const it = (op as Iterable<unknown>)[Symbol.iterator]() as AnyIterator;
  if (it.next === GEN_NEXT) f.flags |= GENERATOR;
  return it;
}

/** %IteratorPrototype% and its `[Symbol.iterator]` (which returns `this`). */
const ITER_PROTO = Object.getPrototypeOf(GEN_PROTO) as { [Symbol.iterator]: unknown };
const ITER_SELF = ITER_PROTO[Symbol.iterator];

/**
 * Whether `op` is a generator object whose `next` and `[Symbol.iterator]` are the
 * built-in ones, told without reading a property of `op`. Every generator function
 * closure gives its generators a map of their own, so on the generator of a fresh
 * closure (`spawn(function* () { … })`) each property load misses V8's inline caches,
 * about 0.5 µs apiece. Prototype reads and own-property checks on the closure's
 * `prototype` object take no inline cache.
 */
function isPlainGenerator(op: object): boolean {
  const p = Object.getPrototypeOf(op) as object | null;
  return (
    p !== null &&
    Object.getPrototypeOf(p) === GEN_PROTO &&
    !Object.hasOwn(p, 'next') &&
    !Object.hasOwn(p, Symbol.iterator) &&
    GEN_PROTO.next === GEN_NEXT &&
    ITER_PROTO[Symbol.iterator] === ITER_SELF
  );
}

export function checkBody(body: unknown): void {
  if (typeof body === 'function') return;
  if (body !== null && typeof body === 'object' && typeof (body as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    return;
  }
  throw invalid(
    `spawn expects an operation (a generator object such as work(), or a generator function such as function* () { … }), got ${describe(body)}`,
  );
}

function checkPriority(p: unknown): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 7) {
    throw invalid(`priority must be an integer from 0 (lowest) to 7 (highest), got ${String(p)}`);
  }
  return p;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v)})`;
  return `${typeof v} ${String(v)}`;
}

function describeWait(f: Fiber<unknown>): string {
  const label = f.waitingOn ?? 'nothing';
  const t = f.waitTarget;
  if (t === undefined) return label;
  const named = (t as { name?: unknown }).name;
  const tn = typeof named === 'string' && named ? named : t instanceof Fiber ? t.toString() : t.constructor?.name ?? 'object';
  return `${label} (${tn})`;
}

/** A wait target's mark: every one of its `holders` must release before a waiter can go on. */
const ALL_HOLDERS = Symbol.for('rioco.allHolders');

/** What a deadlock report says of a parked fiber. */
function parkedInfo(f: Fiber<unknown>): ParkedFiberInfo {
  return { id: f.id, name: f.name ?? `fiber-${f.id}`, waitingOn: describeWait(f), waitingFor: waitingFor(f) };
}

/**
 * The fibers `f` waits for, as far as its wait says (see ParkedFiberInfo.waitingFor): its
 * live children while it waits for them, the fiber it joins, or the `holder` / `holders`
 * fiber ids its wait's target exposes (a user's target may throw from a getter: then none).
 *
 * `mustAll`: only fibers that must all act before the wait can end. Children and a
 * joined fiber must; so must a target's single holder, and several holders when the
 * target says so with `[Symbol.for('rioco.allHolders')]: true` (a rwlock's readers, for a
 * writer). Otherwise each of several holders may be enough alone (a semaphore's
 * permits), so they are left out: a cycle through them is not certain to be a deadlock.
 */
function waitingFor(f: Fiber<unknown>, mustAll = false): number[] {
  if (f.st === S_CHILDREN) {
    const kids: number[] = [];
    for (let c = f.lastChild; c !== null; c = c.prevSibling) if (c.st !== S_DONE) kids.push(c.id);
    return kids.reverse();
  }
  const t = f.waitTarget;
  if (t === undefined) return [];
  if (t instanceof Fiber) return [t.id];
  const ids = new Set<number>();
  try {
    const { holder, holders } = t as { holder?: unknown; holders?: unknown };
    if (typeof holder === 'number') ids.add(holder);
    if (Array.isArray(holders)) for (const h of holders as unknown[]) if (typeof h === 'number') ids.add(h);
  } catch {
    return [];
  }
  return mustAll && ids.size > 1 && (t as Record<symbol, unknown>)[ALL_HOLDERS] !== true ? [] : [...ids];
}

export function makeSuspension<T>(
  register: (resume: Resume<T>) => Teardown | void,
  options: SuspendOptions | undefined,
): Suspension<T> {
  if (typeof register !== 'function') throw invalid('suspend expects a function register(resume) => teardown');
  if (options === undefined) return new Suspension<T>(register, REASON_SUSPEND, undefined, true);
  const r = options.reason;
  // Intern here, once per suspend() call, so park() only stores an integer.
  const reason = r === undefined ? REASON_SUSPEND : typeof r === 'string' ? internReason(r) : r;
  return new Suspension<T>(register, reason, options.target, options.internal !== true, options.reuseResume === true);
}

/** The running fiber or undefined (no checks; for hot paths). */
export function currentFiberUnsafe(): Fiber<unknown> | undefined {
  return current;
}

export function requireFiber(what: string): Fiber<unknown> {
  const f = current;
  if (f === undefined) {
    throw new RiocoError('NO_CURRENT_FIBER', `${what} must be called from inside a fiber (run() or spawn() a generator)`);
  }
  return f;
}

export function markSupervisor(f: Fiber<unknown>): void {
  f.flags |= SUPERVISOR;
  f.rt.table.i32[f.slot * SLOT_WORDS + F_FLAGS] |= 1;
}

export function abortSignalOf(f: Fiber<unknown>): AbortSignal {
  const x = (f.x ??= new FiberExtras());
  if (x.abort === null) {
    x.abort = new AbortController();
    if (f.flags & CANCEL) x.abort.abort(new CancelledError('the fiber was cancelled'));
  }
  return x.abort.signal;
}

export { WaitReason, reasons };

/**
 * Register `cleanup` on fiber `f`; returns a function that removes it (idempotent).
 */
export function addFinalizer(f: Fiber<unknown>, cleanup: () => void): () => void {
  const x = (f.x ??= new FiberExtras());
  const list = (x.finalizers ??= []);
  const i = list.push(cleanup) - 1;
  return () => {
    if (x.finalizers === list) list[i] = null;
  };
}
