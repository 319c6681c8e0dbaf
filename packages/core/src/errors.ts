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
}

const MAX_LISTED = 20;

/**
 * Every fiber of a runtime is parked, none is ready, and nothing outside the runtime
 * (a timer, a socket, a promise) can wake any of them: the program can never progress.
 * The root task fails with this error; its children are cancelled so cleanup runs.
 * @example
 * ```ts
 * await run(function* () { yield* channel.recv(); }); // rejects with DeadlockError
 * ```
 * @public
 */
export class DeadlockError extends RiocoError {
  /** The parked fibers at the time of the report. */
  readonly fibers: readonly ParkedFiberInfo[];
  constructor(fibers: readonly ParkedFiberInfo[], detail?: string) {
    const shown = fibers.slice(0, MAX_LISTED);
    const lines = shown.map((f) => `  #${f.id} ${f.name}: waiting on ${f.waitingOn}`);
    if (fibers.length > MAX_LISTED) lines.push(`  … and ${fibers.length - MAX_LISTED} more (see error.fibers)`);
    super(
      'DEADLOCK',
      `deadlock: ${fibers.length} fiber(s) parked, none ready, and no timer, socket or ` +
        `promise can wake them${detail ? ` (${detail})` : ''}:\n${lines.join('\n')}`,
    );
    this.fibers = fibers;
  }
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
