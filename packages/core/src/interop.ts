import type { Operation } from './Operation.js';
import { invalid } from './errors.js';
import { abortSignalOf, makeSuspension, requireFiber } from './internal/runtime.js';
import { REASON_PROMISE } from './internal/waitReason.js';

/**
 * Wait for a promise inside a fiber. Given a function, it is called with an AbortSignal
 * that aborts if the fiber is cancelled while waiting (pass it to `fetch` and friends).
 *
 * @remarks
 * Cancellation leaves the promise running unless the function form is used and the
 * work honours the signal. A pending wait counts as a wake source.
 *
 * @example
 * ```ts
 * const res = yield* wait((signal) => fetch('http://127.0.0.1:8080/', { signal }));
 * const text = yield* wait(res.text());
 * ```
 * @public
 */
export function wait<T>(promise: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>)): Operation<T> {
  if (typeof promise === 'function') {
    const start = promise;
    return makeSuspension<T>(
      (resume) => {
        const ac = new AbortController();
        let p: PromiseLike<T>;
        try {
          p = start(ac.signal);
        } catch (e) {
          resume.fail(e);
          return;
        }
        if (p === null || typeof p !== 'object' || typeof p.then !== 'function') {
          resume.fail(invalid('wait(fn): fn must return a promise'));
          return;
        }
        p.then(
          (v) => resume.ok(v),
          (e) => resume.fail(e),
        );
        return () => ac.abort();
      },
      { reason: REASON_PROMISE },
    );
  }
  if (promise === null || typeof promise !== 'object' || typeof (promise).then !== 'function') {
    throw invalid('wait() expects a promise (or a function signal => promise)');
  }
  return makeSuspension<T>(
    (resume) => {
      promise.then(
        (v) => resume.ok(v),
        (e) => resume.fail(e),
      );
    },
    { reason: REASON_PROMISE },
  );
}

/**
 * An AbortSignal that aborts when the current fiber is cancelled.
 * @example
 * ```ts
 * const signal = useAbortSignal();
 * const body = yield* wait(fetch(url, { signal }));
 * ```
 * @public
 */
export function useAbortSignal(): AbortSignal {
  return abortSignalOf(requireFiber('useAbortSignal()'));
}
