/**
 * Argument checks shared by the public functions. They run at the call, before anything
 * is armed, and throw core's InvalidArgumentError (code INVALID_ARGUMENT).
 *
 * Infinite durations are rejected on purpose: a wait with no time limit is spelled by
 * waiting on the event itself, and an accidental `Infinity` (a division by zero, a
 * missing config value turned into a number) must fail loudly instead of hanging.
 */
import { InvalidArgumentError } from '@rioco/core';

export function checkDuration(what: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(
      `${what} must be a finite number of milliseconds >= 0, got ${show(ms)}` +
        (ms === Infinity ? ' (to wait without a time limit, wait on the event itself)' : ''),
    );
  }
  return ms;
}

export function checkInstant(what: string, at: unknown): number {
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new InvalidArgumentError(`${what} must be a finite time in milliseconds on the runtime clock (see now()), got ${show(at)}`);
  }
  return at;
}

export function checkRef(what: string, options: { ref?: unknown } | undefined): boolean {
  if (options === undefined) return true;
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`${what} options must be an object`);
  const ref = options.ref;
  if (ref !== undefined && typeof ref !== 'boolean') throw new InvalidArgumentError(`${what} option "ref" must be a boolean, got ${show(ref)}`);
  return ref !== false;
}

export function show(v: unknown): string {
  if (typeof v === 'string') return `the string "${v}"`;
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'function' ? 'a function' : `${typeof v} ${Object.prototype.toString.call(v)}`;
}
