import type { Body } from './Operation.js';
import { LeakError, RiocoError } from './errors.js';
import { startRuntime, type RunOptions } from './run.js';
import type { Runtime, Fiber } from './internal/runtime.js';
import { openReactorSockets } from './internal/native/io.js';

/**
 * Run `body` like {@link run}, then fail if the runtime left anything behind: a live
 * fiber, a pending timer, a held wake source (a socket a fiber waits on, a forgotten
 * callback), or a socket still open on the native socket reactor that the test opened.
 * Use it as the body of every test.
 *
 * @example
 * ```ts
 * it('sends', () => runTest(function* () {
 *   const ch = channel<number>(1);
 *   yield* ch.send(1);
 *   expect(yield* ch.recv()).toBe(1);
 * }));
 * ```
 * @public
 */
export async function runTest<T>(body: Body<T>, options: RunOptions = {}): Promise<T> {
  const sockets = openReactorSockets();
  const rt = startRuntime(body, options);
  const root = rt.root as Fiber<T>;
  let value: T;
  try {
    value = await root;
  } finally {
    checkLeaks(rt, sockets);
  }
  return value;
}

function checkLeaks(rt: Runtime, socketsBefore: number): void {
  const problems: string[] = [];
  const sockets = openReactorSockets() - socketsBefore;
  if (sockets > 0) problems.push(`${sockets} socket(s) still open`);
  if (rt.live > 0) problems.push(`${rt.live} fiber(s) still alive`);
  if (rt.pendingTimers > 0) problems.push(`${rt.pendingTimers} timer(s) still pending`);
  if (rt.refs > 0 || rt.unrefs > 0) problems.push(`${rt.refs + rt.unrefs} wake source(s) not released`);
  if (problems.length > 0) throw new LeakError(`the test left resources behind: ${problems.join(', ')}`);
}

/**
 * Run `body` under the seeded scheduler once per seed, `count` seeds starting at
 * `first` (default 1), each with the leak checks of {@link runTest}. A failure is
 * rethrown with the seed in its message; replay it with `RIOCO_SEED=<seed>`.
 *
 * @example
 * ```ts
 * it('is FIFO under any interleaving', () => forEachSeed(300, function* () { … }));
 * ```
 * @public
 */
export async function forEachSeed(
  count: number,
  body: Body<unknown> | ((seed: number) => Body<unknown>),
  options: Omit<RunOptions, 'seed'> & { first?: number } = {},
): Promise<void> {
  const first = options.first ?? (process.env.RIOCO_SEED ? Number(process.env.RIOCO_SEED) : 1);
  const n = process.env.RIOCO_SEED ? 1 : count;
  for (let seed = first; seed < first + n; seed++) {
    const b = typeof body === 'function' && body.length === 1 ? (body)(seed) : (body as Body<unknown>);
    try {
      await runTest(b, { ...options, seed });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new RiocoError('SEED_FAILED', `failed with seed ${seed} (replay: RIOCO_SEED=${seed}): ${msg}`, { cause: err });
    }
  }
}
