import { invalid } from './errors.js';
import { addFinalizer, requireFiber } from './internal/runtime.js';

/**
 * Run `cleanup` when the current fiber finishes — after its body and all its children,
 * however it ends (returned, failed, cancelled) — last registered first. Returns a
 * function that removes the registration (for a resource closed or handed off earlier).
 *
 * @remarks
 * For resources opened from plain callbacks or helpers that cannot wrap the fiber's body
 * in `try/finally`. `cleanup` runs synchronously and cannot `yield*`; an error it throws
 * fails the fiber (unless it already failed).
 *
 * @example
 * ```ts
 * const file = await fs.open(path);
 * const forget = ensure(() => void file.close());
 * // … if the file is handed to another owner: forget();
 * ```
 * @public
 */
export function ensure(cleanup: () => void): () => void {
  if (typeof cleanup !== 'function') throw invalid('ensure() expects a function');
  return addFinalizer(requireFiber('ensure()'), cleanup);
}
