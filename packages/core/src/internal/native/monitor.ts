/**
 * The monitor: one native thread per process that samples every region's header and
 * every subscribed event loop (see native/src/monitor.c), and reports a fiber that has
 * run too long without yielding or a loop that stopped turning.
 *
 * Per thread (per JavaScript realm) this module keeps one native *host* on the thread's
 * own event loop while at least one subscription is live: the monitor thread wakes it
 * with uv_async_send, and its callback runs `dispatch` below inside a callback scope
 * (promise jobs queued by a subscriber run right after). The host's handles are
 * unref'd: a monitor never keeps the process alive. The koffi callback is registered
 * once per thread and kept: a subscriber may stop the monitor from inside its own
 * report, while that very callback is on the stack.
 *
 * Subscriptions are reference counted natively: the monitor thread starts with the
 * first and is stopped and joined with the last (the join cannot deadlock: the monitor
 * thread never calls into JavaScript, it only queues and wakes).
 */
import { RiocoError, invalid } from '../../errors.js';
import { loadNative, type NativeLib, type NativePointer } from './load.js';

/**
 * What the monitor saw.
 * @internal
 */
export interface MonitorReport {
  /** `stuck-fiber`: a fiber ran `ms` without yielding; `loop-stall`: the event loop did not turn for `ms`. */
  kind: 'stuck-fiber' | 'loop-stall';
  /** The fiber running at the time (0 for a loop stall outside any fiber). */
  fiberId: number;
  /** How long, in milliseconds, when detected (at sampling granularity). */
  ms: number;
  /** The runtime that owns the fiber (0 when none). Runtime ids are per thread. */
  runtimeId: number;
}

/**
 * Options of {@link startMonitor}.
 * @internal
 */
export interface MonitorOptions {
  /** Report a fiber that runs this long without yielding (ms; 0 disables). */
  stuckMs: number;
  /** Report an event loop that has not turned for this long (ms; 0 disables). */
  loopStallMs: number;
  /**
   * Called on this thread, from its event loop, once per episode and subscriber. A
   * report that JavaScript cannot take within one more threshold (the thread is still
   * blocked) is also written to stderr by the monitor thread. Errors thrown here are
   * rethrown asynchronously (they become an uncaught exception, as in any callback).
   */
  onReport: (report: MonitorReport) => void;
  /** Sampling period (ms). Default: a quarter of the smaller threshold, 5..100 ms. */
  sampleMs?: number;
}

/**
 * A running subscription: `stop()` (or `using`) ends it; stopping twice is harmless.
 * @internal
 */
export interface MonitorHandle {
  stop(): void;
  [Symbol.dispose](): void;
}

interface ThreadHost {
  lib: NativeLib;
  host: NativePointer;
  subscribers: Map<number, (report: MonitorReport) => void>;
}

let threadHost: ThreadHost | null = null;
let callback: unknown;

function dispatch(kind: number, watch: number, runtimeId: number, fiberId: number, ms: number): void {
  // Never let an exception escape into native code: it would resurface in the next,
  // unrelated koffi call of this thread.
  try {
    const subscriber = threadHost?.subscribers.get(watch);
    if (subscriber === undefined) return;
    subscriber({ kind: kind === 1 ? 'stuck-fiber' : 'loop-stall', fiberId, ms, runtimeId });
  } catch (err) {
    process.nextTick(() => {
      throw err;
    });
  }
}

function limit(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 3_600_000) {
    throw invalid(`${name} must be an integer number of milliseconds in ${min}..3600000, got ${String(value)}`);
  }
  return value;
}

/**
 * Subscribe this thread to the monitor thread's reports, starting it if needed.
 *
 * @throws {@link RiocoError} `NATIVE_UNAVAILABLE` without the native library or outside
 *   Node; {@link InvalidArgumentError} for bad options.
 * @internal
 */
export function startMonitor(options: MonitorOptions): MonitorHandle {
  if (options === null || typeof options !== 'object') throw invalid('monitor options must be an object');
  const stuckMs = limit('stuckMs', options.stuckMs, 0);
  const loopStallMs = limit('loopStallMs', options.loopStallMs, 0);
  const sampleMs = options.sampleMs === undefined ? 0 : limit('sampleMs', options.sampleMs, 1);
  if (stuckMs === 0 && loopStallMs === 0) throw invalid('set stuckMs or loopStallMs (both are 0)');
  const onReport = options.onReport;
  if (typeof onReport !== 'function') throw invalid('onReport must be a function');
  const lib = loadNative();
  const th = attach(lib);
  const watch = lib.fn.watchAdd(th.host, stuckMs, loopStallMs, sampleMs);
  if (watch < 0) {
    if (th.subscribers.size === 0) detach(th);
    throw new RiocoError(
      'NATIVE_UNAVAILABLE',
      watch === -3
        ? 'too many monitor subscriptions in this process (64); stop some before starting more'
        : `could not start the monitor thread (native status ${watch})`,
    );
  }
  th.subscribers.set(watch, onReport);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    lib.fn.watchRemove(watch);
    th.subscribers.delete(watch);
    if (th.subscribers.size === 0 && threadHost === th) detach(th);
  };
  return { stop, [Symbol.dispose]: stop };
}

function attach(lib: NativeLib): ThreadHost {
  if (threadHost !== null) return threadHost;
  callback ??= lib.koffi.register(dispatch, lib.koffi.pointer(lib.reportFnType as string));
  const host = lib.fn.hostOpen(lib.koffi.node.env, callback);
  if (host === null) {
    throw new RiocoError(
      'NATIVE_UNAVAILABLE',
      'the monitor needs Node.js event-loop symbols (uv_*, napi_*) that this process does not export',
    );
  }
  threadHost = { lib, host, subscribers: new Map() };
  return threadHost;
}

function detach(th: ThreadHost): void {
  threadHost = null;
  th.lib.fn.hostClose(th.host);
}

/**
 * Kernel thread id of the monitor thread, 0 when it is not running (tests, tooling).
 * @internal
 */
export function monitorThreadId(): number {
  return loadNative().fn.monitorTid();
}
