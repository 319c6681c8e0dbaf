import type { Suspension } from './internal/suspension.js';

/**
 * What a fiber yields to the scheduler. Opaque: user code never creates or inspects
 * instructions, it only forwards them with `yield*`.
 * @public
 */
export type Instruction = Suspension<unknown>;

/**
 * A blocking step of a fiber, consumed with `yield*` and typed end to end.
 *
 * @remarks
 * Any generator function written as `function* (): Operation<T>` is an operation, and so
 * is every blocking call of Rioco (`task`, `sleep(ms)`, `channel.recv()`, …). A generator
 * *object* is a single-use operation; a generator *function* can be run many times.
 *
 * @example
 * ```ts
 * function* fetchTwice(): Operation<number> {
 *   const a = yield* wait(fetch('http://127.0.0.1:8080/a'));
 *   const b = yield* wait(fetch('http://127.0.0.1:8080/b'));
 *   return a.status + b.status;
 * }
 * ```
 * @public
 */
export interface Operation<T> {
  [Symbol.iterator](): Iterator<Instruction, T, unknown>;
}

/**
 * A body a fiber can run: an operation, or a function that returns one (called with
 * `options.args` when given, so no closure is needed per spawn).
 * @public
 */
export type Body<T, A extends readonly unknown[] = []> = Operation<T> | ((...args: A) => Operation<T>);
