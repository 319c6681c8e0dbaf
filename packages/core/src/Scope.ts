import type { Body } from './Operation.js';
import type { SpawnOptions, Task } from './Task.js';
import type { RunOptions } from './run.js';
import { RiocoError } from './errors.js';
import { requireFiber, type Fiber } from './internal/runtime.js';
import { startRuntime } from './run.js';
import { suspend, waitReason } from './spawn.js';

/**
 * A place to spawn fibers from anywhere — an event handler, a callback, a promise —
 * into a fiber tree that stays structured: the fibers are children of the scope's
 * fiber, cancelled with it, and their failures fail it.
 *
 * @example
 * ```ts
 * const scope = useScope();
 * server.on('connection', (socket) => scope.spawn(handle, { args: [socket] }));
 * ```
 * @public
 */
export interface Scope {
  /** Spawn a child of the scope's fiber. Works inside or outside fibers. */
  spawn<T, A extends readonly unknown[] = []>(body: Body<T, A>, options?: SpawnOptions<A>): Task<T>;
  /** Whether the scope still accepts fibers (its fiber has not finished or begun cancelling). */
  readonly active: boolean;
}

/**
 * A scope with its own runtime, for code that is not inside Rioco at all (a framework
 * adapter, a test harness). Close it to cancel every fiber in it and wait for their
 * cleanup; `using`/`await using` close it at the end of a block.
 *
 * @example
 * ```ts
 * await using scope = createScope();
 * app.get('/', (req, res) => scope.spawn(function* () { res.end(yield* render(req)); }));
 * ```
 * @public
 */
export interface DetachedScope extends Scope, Disposable, AsyncDisposable {
  /** Cancel every fiber of the scope and wait until all have finished their cleanup. */
  close(): Promise<void>;
}

const SCOPE_OPEN = waitReason('scope.open');

class FiberScope implements Scope {
  constructor(private readonly fiber: Fiber<unknown>) {}

  get active(): boolean {
    return !this.fiber.done && !this.fiber.cancelRequested;
  }

  spawn<T, A extends readonly unknown[] = []>(body: Body<T, A>, options?: SpawnOptions<A>): Task<T> {
    if (!this.active) {
      throw new RiocoError('SCOPE_CLOSED', `cannot spawn into ${this.fiber.toString()}: the scope has finished or is being cancelled`);
    }
    return this.fiber.rt.spawnChild(this.fiber, body, options);
  }
}

/**
 * The scope of the current fiber: fibers spawned through it from callbacks become
 * children of this fiber.
 * @example
 * ```ts
 * const scope = useScope();
 * emitter.on('job', (job) => scope.spawn(runJob, { args: [job] }));
 * ```
 * @public
 */
export function useScope(): Scope {
  return new FiberScope(requireFiber('useScope()'));
}

/**
 * Create a {@link DetachedScope}: a runtime whose root fiber waits until the scope is
 * closed. Its root holds no reference on the event loop, so an open scope never keeps a
 * program alive or counts as a deadlock.
 * @example
 * ```ts
 * const scope = createScope();
 * const t = scope.spawn(function* () { return 42; });
 * console.log(await t);
 * await scope.close();
 * ```
 * @public
 */
export function createScope(options: RunOptions = {}): DetachedScope {
  const rt = startRuntime(function* () {
    const source = rt.holdWakeSource(false);
    try {
      // Parked until close() cancels it.
      yield* suspend<void>(() => {}, { reason: SCOPE_OPEN, internal: true });
    } finally {
      source.release();
    }
  }, { name: 'scope', ...options });
  const root = rt.root as Fiber<void>;
  const scope = new FiberScope(root);
  const close = async (): Promise<void> => {
    root.cancel();
    try {
      await root;
    } catch (e) {
      if ((e as { code?: string }).code !== 'CANCELLED') throw e;
    }
  };
  return {
    spawn: (body, opts) => scope.spawn(body, opts),
    get active() {
      return scope.active;
    },
    close,
    [Symbol.dispose]: () => root.cancel(),
    [Symbol.asyncDispose]: close,
  };
}
