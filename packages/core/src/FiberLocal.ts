import { currentFiberUnsafe, requireFiber } from './internal/runtime.js';

/**
 * A value scoped to a fiber and inherited by the children it spawns afterwards (a child
 * sees the parent's value at spawn time; later changes on either side stay local).
 *
 * @example
 * ```ts
 * const requestId = new FiberLocal<string>('requestId', '-');
 * yield* run(function* () {
 *   requestId.set('r-1');
 *   spawn(function* () { console.log(requestId.get()); }); // r-1
 * });
 * ```
 * @public
 */
export class FiberLocal<T> {
  /** Name for dumps. */
  readonly name: string;
  /** Value seen by fibers that never set or inherited one. */
  readonly initial: T;
  constructor(name: string, initial: T) {
    this.name = name;
    this.initial = initial;
  }

  /** The current fiber's value (the initial value outside any fiber). */
  get(): T {
    const f = currentFiberUnsafe();
    if (f === undefined || f.locals === null) return this.initial;
    const m = f.locals;
    return m.has(this) ? (m.get(this) as T) : this.initial;
  }

  /** Set the value for the current fiber and the children it spawns from now on. */
  set(value: T): void {
    const f = requireFiber('FiberLocal.set');
    // Copy on write: children hold the map they were spawned with.
    const m = new Map(f.locals ?? undefined);
    m.set(this, value);
    f.locals = m;
  }
}
