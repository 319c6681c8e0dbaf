/**
 * Errors thrown by Rioco. Every error is a {@link RiocoError} with a stable `code`,
 * so callers branch on `err.code`, never on message text.
 */

/**
 * Stable codes of the errors that `@rioco/core` raises. Sibling packages add their own
 * codes (documented there); a code never changes meaning once released.
 * @public
 */
export type CoreErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NO_CURRENT_FIBER'
  | 'FOREIGN_TASK'
  | 'INVALID_YIELD'
  | 'CANCELLED'
  | 'DEADLOCK'
  | 'LEAK'
  | 'NATIVE_UNAVAILABLE'
  | 'TABLE_FULL'
  | 'RUNTIME_CLOSED'
  | 'SCOPE_CLOSED';

/**
 * Base class of every error Rioco raises.
 *
 * @remarks
 * `code` is stable across releases; `name` is the subclass name; `cause` keeps the
 * original error (ES2022).
 *
 * @example
 * ```ts
 * try { yield* task; } catch (err) {
 *   if (err instanceof RiocoError && err.code === 'CANCELLED') console.log('was cancelled');
 * }
 * ```
 * @public
 */
export class RiocoError extends Error {
  /** Stable, machine-readable code (for example `'DEADLOCK'`). */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A function or option received a value it cannot use. Thrown at the call, before
 * anything happened.
 * @example
 * ```ts
 * spawn(body, { priority: -1 }); // throws InvalidArgumentError (code INVALID_ARGUMENT)
 * ```
 * @public
 */
export class InvalidArgumentError extends RiocoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/**
 * Raised when joining (or awaiting) a task that was cancelled before it produced a value.
 * @example
 * ```ts
 * const t = spawn(work); t.cancel();
 * try { yield* t; } catch (e) { e instanceof CancelledError; } // true
 * ```
 * @public
 */
export class CancelledError extends RiocoError {
  constructor(message = 'the task was cancelled before it produced a value') {
    super('CANCELLED', message);
  }
}

/**
 * One parked fiber in a {@link DeadlockError}.
 * @public
 */
export interface ParkedFiberInfo {
  /** Fiber id. */
  readonly id: number;
  /** Fiber name, or `fiber-<id>`. */
  readonly name: string;
  /** What it waits on (the suspension's wait reason). */
  readonly waitingOn: string;
  /**
   * Ids of the fibers it waits for, as far as its wait says: the task it joins, its
   * unfinished children, or the fibers holding its wait's target (the `holder` or
   * `holders` of a mutex, rwlock, semaphore or once cell). Empty when the wait names none,
   * as for a channel receive, which any fiber may end.
   */
  readonly waitingFor: readonly number[];
}

const MAX_LISTED = 20;
const MAX_CYCLES = 5;

/**
 * Every fiber of a runtime is parked, none is ready, and nothing outside the runtime
 * (a timer, a socket, a promise) can wake any of them: the program can never progress.
 * The root task fails with this error; its children are cancelled so cleanup runs.
 *
 * @remarks
 * The message lists each parked fiber with what it waits on and which fibers block it,
 * then every wait-for cycle among them: two fibers locking two mutexes in opposite orders, a fiber
 * locking a mutex it already holds, a fiber joining a task that waits for a lock the
 * joiner holds.
 * @example
 * ```ts
 * await run(function* () { yield* channel.recv(); }); // rejects with DeadlockError
 * ```
 * @public
 */
export class DeadlockError extends RiocoError {
  /** The parked fibers at the time of the report. */
  readonly fibers: readonly ParkedFiberInfo[];
  /**
   * The wait-for cycles among the parked fibers, each once: fiber ids in order, each one
   * waiting for the next and the last for the first, starting at the smallest id. A
   * fiber that waits for itself is a cycle of one. Empty when no cycle is known (the
   * fibers may still be stuck, for example on channels nobody will use).
   */
  readonly cycles: readonly (readonly number[])[];
  constructor(fibers: readonly ParkedFiberInfo[], detail?: string) {
    const byId = new Map(fibers.map((f) => [f.id, f]));
    const label = (id: number): string => `#${id} ${byId.get(id)?.name ?? ''}`.trimEnd();
    const cycles = waitCycles(fibers);
    const shown = fibers.slice(0, MAX_LISTED);
    const lines = shown.map((f) => {
      const by = f.waitingFor.length > 0 ? `, blocked by ${f.waitingFor.map((id) => `#${id}`).join(', ')}` : '';
      return `  #${f.id} ${f.name}: waiting on ${f.waitingOn}${by}`;
    });
    if (fibers.length > MAX_LISTED) lines.push(`  … and ${fibers.length - MAX_LISTED} more (see error.fibers)`);
    for (const c of cycles.slice(0, MAX_CYCLES)) {
      const ring = c.length > MAX_LISTED ? [...c.slice(0, MAX_LISTED).map(label), `… ${c.length - MAX_LISTED} more`] : c.map(label);
      lines.push(`  cycle: ${[...ring, label(c[0])].join(' → ')}`);
    }
    if (cycles.length > MAX_CYCLES) lines.push(`  … and ${cycles.length - MAX_CYCLES} more cycles (see error.cycles)`);
    super(
      'DEADLOCK',
      `deadlock: ${fibers.length} fiber(s) parked, none ready, and no timer, socket or ` +
        `promise can wake them${detail ? ` (${detail})` : ''}:\n${lines.join('\n')}`,
    );
    this.fibers = fibers;
    this.cycles = cycles;
  }
}

/**
 * A wait would close a wait-for cycle, so it fails at once instead of waiting forever
 * (runtimes started with `lockCycles: true`). The other fibers of the cycle keep
 * waiting; the failing fiber's `finally` blocks and `using` guards release what it holds,
 * which lets them go on, as a database aborts one transaction of a deadlock.
 *
 * @remarks
 * `fibers` lists the cycle from the fiber whose wait failed, each waiting for the next and
 * the last for the first; `cycles` holds that one cycle of ids.
 * @example
 * ```ts
 * try {
 *   using g = yield* accounts.lock();
 * } catch (e) {
 *   if (e instanceof LockCycleError) console.error(e.message); // the cycle, fiber by fiber
 * }
 * ```
 * @public
 */
export class LockCycleError extends DeadlockError {
  constructor(cycle: readonly ParkedFiberInfo[]) {
    super(cycle);
    // The one cycle found, as DeadlockError lists cycles (from the smallest id); the base
    // would also list cycles through waits that need only one of their holders.
    (this as { cycles: readonly (readonly number[])[] }).cycles = [fromSmallest(cycle.map((f) => f.id))];
    const lines = cycle.map((f) => `  #${f.id} ${f.name}: waiting on ${f.waitingOn}`);
    this.message =
      `deadlock: #${cycle[0].id} ${cycle[0].name} would wait forever: its wait closes a wait-for cycle of ` +
      `${cycle.length} fiber(s), so it fails instead:\n${lines.join('\n')}\n` +
      `  cycle: ${[...cycle, cycle[0]].map((f) => `#${f.id} ${f.name}`).join(' → ')}`;
  }
}

/** A cycle of ids rotated to start at its smallest (a loop: no spread of a long cycle). */
function fromSmallest(c: readonly number[]): number[] {
  let k = 0;
  for (let i = 1; i < c.length; i++) if (c[i] < c[k]) k = i;
  return [...c.slice(k), ...c.slice(0, k)];
}

/**
 * The cycles of the wait-for graph (edges: `waitingFor`, among the given fibers only),
 * one per back edge of a depth-first search, each rotated to start at its smallest id
 * and listed once. Iterative: a chain of 100k waiting fibers must not overflow the stack.
 */
function waitCycles(fibers: readonly ParkedFiberInfo[]): number[][] {
  const edges = new Map(fibers.map((f) => [f.id, f.waitingFor]));
  const state = new Map<number, 1 | 2>(); // 1: on the path, 2: done
  const seen = new Set<string>();
  const out: number[][] = [];
  for (const f of fibers) {
    if (state.has(f.id)) continue;
    const path: number[] = [f.id];
    const next: number[] = [0];
    state.set(f.id, 1);
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top];
      const outs = edges.get(id) as readonly number[];
      if (next[top] === outs.length) {
        state.set(id, 2);
        path.pop();
        next.pop();
        continue;
      }
      const to = outs[next[top]++];
      if (!edges.has(to)) continue; // not parked: it can still run
      const st = state.get(to);
      if (st === undefined) {
        state.set(to, 1);
        path.push(to);
        next.push(0);
      } else if (st === 1) {
        const cycle = fromSmallest(path.slice(path.indexOf(to)));
        const key = cycle.join(',');
        if (!seen.has(key)) {
          seen.add(key);
          out.push(cycle);
        }
      }
    }
  }
  return out;
}

/**
 * A test runtime ended but left fibers or wake sources (timers, sockets, pending
 * callbacks) behind. Raised by {@link runTest}.
 * @example
 * ```ts
 * await runTest(function* () { keepTimerWithoutRelease(); }); // rejects with LeakError
 * ```
 * @public
 */
export class LeakError extends RiocoError {
  constructor(message: string) {
    super('LEAK', message);
  }
}

/** @internal */
export function invalid(message: string): InvalidArgumentError {
  return new InvalidArgumentError(message);
}
