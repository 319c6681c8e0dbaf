import { InvalidArgumentError, spawn, supervisor, timerWait, type Instruction, type Operation } from '@rioco/core';
import { NetError, TooManyOpenFilesError } from './errors.js';
import type { SocketAddress } from './SocketAddress.js';
import type { WaitOptions } from './WaitOptions.js';
import type { StreamOptions } from './connect.js';
import { Stream } from './Stream.js';
import { AcceptOp, type ListenerDriver } from './internal/ListenerState.js';
import { listenOp } from './internal/listenOp.js';

/**
 * Where and how {@link listen} accepts TCP connections.
 * @public
 */
export interface TcpListenOptions extends StreamOptions, WaitOptions {
  /** Address to listen on. Default: every interface (`::` or `0.0.0.0`), as in Node.js. */
  host?: string;
  /** Port; `0` (the default) picks a free one, see {@link Listener.address}. */
  port?: number;
  /** Length of the kernel's queue of connections not accepted yet: an integer from 0 to 2^31-1; `0` or none: 511. */
  backlog?: number;
  /**
   * Let several listeners (threads, processes) bind the same port; the kernel spreads
   * connections between them (SO_REUSEPORT). Works on the native readiness path (Linux)
   * with any Node.js; on the node:net driver it needs Node.js 22.12 or later, else
   * {@link UnsupportedError}.
   */
  reusePort?: boolean;
  /** With an IPv6 `host`, do not accept IPv4 connections too. */
  ipv6Only?: boolean;
}

/**
 * Where and how {@link listen} accepts Unix domain socket connections.
 * @public
 */
export interface UnixListenOptions extends StreamOptions, WaitOptions {
  /**
   * File system path of the socket (removed again when the listener closes): at most
   * 107 bytes (UTF-8) on Linux, 103 on macOS and the BSDs (the kernel's `sun_path`
   * limit, without the terminating NUL), with no NUL byte (abstract socket names are not
   * supported).
   */
  path: string;
  /** Length of the kernel's queue of connections not accepted yet: an integer from 0 to 2^31-1; `0` or none: 511. */
  backlog?: number;
  /** Make the socket readable by all users. */
  readableAll?: boolean;
  /** Make the socket writable by all users. */
  writableAll?: boolean;
}

/**
 * Options of {@link Listener.serve}.
 * @public
 */
export interface ServeOptions {
  /** Name of each connection's fiber, as fiber dumps and deadlock reports show it. Default `'connection'`. */
  name?: string;
  /** After running out of file descriptors, wait this long before accepting again, in ms. Default 100. */
  retryAfter?: number;
  /** Told of each shortage of file descriptors, before the wait. */
  onTooManyOpenFiles?: (err: TooManyOpenFilesError) => void;
}

/**
 * A listening TCP or Unix domain socket that hands out {@link Stream}s.
 *
 * @remarks
 * `accept()` parks until a connection arrives. Connections that arrive while no fiber
 * is accepting wait, reading nothing, until one does. Several fibers may accept on one
 * listener. After a transient failure ({@link TooManyOpenFilesError}) the listener
 * keeps working: the next `accept()` succeeds once descriptors are free.
 *
 * The listener belongs to the fiber that called `listen` and is closed when it ends;
 * each accepted stream belongs to the fiber that accepted it (hand it to a handler with
 * `spawn(handle, { args: [conn] })` and `conn.adopt()` there). Outside fibers, a
 * listener is an async iterable of streams.
 *
 * @example
 * ```ts
 * using listener = yield* listen({ host: '127.0.0.1', port: 7007 });
 * for (;;) {
 *   const conn = yield* listener.accept();
 *   spawn(function* () {
 *     conn.adopt();
 *     for (let b; (b = yield* conn.read()) !== null; ) yield* conn.write(b);
 *   });
 * }
 * ```
 * @public
 */
export class Listener implements Disposable, AsyncDisposable, AsyncIterable<Stream> {
  private readonly s: ListenerDriver<Stream>;

  /** @internal */
  constructor(state: unknown) {
    this.s = state as ListenerDriver<Stream>;
  }

  /** The address it listens on (with the port the system picked for port 0). */
  get address(): SocketAddress {
    return this.s.address;
  }

  /** Whether `close()` was called (or the owning fiber ended). */
  get closed(): boolean {
    return this.s.closedByUs;
  }

  /**
   * The next connection. A timeout, abort or cancellation takes no connection: the next
   * `accept()` gets it. Throws {@link SocketClosedError} once the listener is closed.
   * @example
   * ```ts
   * const conn = yield* listener.accept({ timeout: 60_000 });
   * ```
   */
  accept(options?: WaitOptions): Operation<Stream> {
    return new AcceptOp(this.s, options);
  }

  /**
   * Accept connections until cancelled, running `handler(conn)` in a fiber of its own for
   * each one. The connection's fiber owns the stream: it closes when the handler ends,
   * however it ends.
   *
   * @remarks
   * What a server needs around `accept()`, done once: connections fail alone (the
   * handlers run in a {@link @rioco/core#supervisor} scope, so one handler's error does
   * not stop the server; a {@link NetError} escaping a handler — a reset, a vanished
   * peer — just ends that connection, any other error goes to the scheduler's
   * `unhandledError` hook, or to stderr without one); running out of file descriptors
   * ({@link TooManyOpenFilesError}) waits `retryAfter` ms and accepts again. Other
   * accept errors (the listener was closed) end `serve` with that error, after the
   * running connections have finished. Cancelling the fiber that runs `serve` cancels
   * every connection first.
   *
   * @example
   * ```ts
   * using listener = yield* listen({ host: '127.0.0.1', port: 7007 });
   * yield* listener.serve(function* (conn) {
   *   for (let b; (b = yield* conn.read()) !== null; ) yield* conn.write(b);
   * });
   * ```
   */
  serve(handler: (conn: Stream) => Operation<void>, options: ServeOptions = {}): Operation<never> {
    if (typeof handler !== 'function') throw new InvalidArgumentError('serve(handler): handler must be a function (conn) => operation');
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('serve options must be an object');
    const { name = 'connection', retryAfter = 100, onTooManyOpenFiles } = options;
    if (typeof name !== 'string') throw new InvalidArgumentError('serve option "name" must be a string');
    if (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter) || retryAfter < 0) {
      throw new InvalidArgumentError(`serve option "retryAfter" must be a finite number of ms >= 0, got ${String(retryAfter)}`);
    }
    if (onTooManyOpenFiles !== undefined && typeof onTooManyOpenFiles !== 'function') {
      throw new InvalidArgumentError('serve option "onTooManyOpenFiles" must be a function');
    }
    return serveLoop(this, handler, name, timerWait(retryAfter, { relative: true }), onTooManyOpenFiles);
  }

  /**
   * Make the current fiber the listener's owner (it closes when that fiber ends).
   * @example
   * ```ts
   * spawn(function* () { listener.adopt(); for (;;) handle(yield* listener.accept()); });
   * ```
   */
  adopt(): void {
    this.s.adopt();
  }

  /**
   * Stop listening: connections not accepted yet are closed, fibers parked in
   * `accept()` get {@link SocketClosedError}. Accepted streams stay open. Idempotent.
   * @example
   * ```ts
   * listener.close();
   * ```
   */
  close(): void {
    this.s.close();
  }

  /**
   * Same as {@link Listener.close}, for `using`.
   * @example
   * ```ts
   * using listener = yield* listen({ port: 0 });
   * ```
   */
  [Symbol.dispose](): void {
    this.s.close();
  }

  /**
   * Close, then resolve once the listening socket is released (a loop turn later), for `await using`.
   * @example
   * ```ts
   * await listener[Symbol.asyncDispose]();
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.s.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Accept from async code (outside fibers): `for await (const conn of listener)`. Ends
   * when the listener closes; skips {@link TooManyOpenFilesError}. Streams accepted this
   * way belong to no fiber: close them yourself.
   * @example
   * ```ts
   * for await (const conn of listener) handOff(conn);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Stream> {
    const s = this.s;
    return {
      next: () => s.nextPromise(),
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }
}

function* serveLoop(
  listener: Listener,
  handler: (conn: Stream) => Operation<void>,
  name: string,
  pause: Operation<void>,
  onTooManyOpenFiles: ((err: TooManyOpenFilesError) => void) | undefined,
): Generator<Instruction, never, unknown> {
  // The accept error comes back as the scope's value (a failure inside a supervisor scope
  // would fail the caller fail-fast), and is thrown here, where the caller can catch it.
  const failure = yield* supervisor(function* (): Generator<Instruction, unknown, unknown> {
    for (;;) {
      let conn: Stream;
      try {
        conn = yield* listener.accept();
      } catch (err) {
        if (!(err instanceof TooManyOpenFilesError)) return err;
        onTooManyOpenFiles?.(err);
        yield* pause;
        continue;
      }
      spawn(connection, { args: [conn, handler], name });
    }
  });
  throw failure;
}

function* connection(conn: Stream, handler: (conn: Stream) => Operation<void>): Operation<void> {
  conn.adopt();
  try {
    yield* handler(conn);
  } catch (err) {
    if (!(err instanceof NetError)) throw err; // the connection's own end: nothing to report
  }
}

/**
 * Listen for connections: TCP with `host`/`port`, a Unix domain socket with `path`.
 *
 * @remarks
 * Fails with {@link AddressInUseError} when the address is taken. Accepted streams get
 * the {@link StreamOptions} given here (`noDelay`, `keepAlive`, …). The listener belongs
 * to the calling fiber (closed when it ends), or close it with `using`.
 *
 * Bad options throw `InvalidArgumentError` (from `@rioco/core`, code `INVALID_ARGUMENT`)
 * at the call, before any socket exists: a port outside 0..65535, a `backlog` that is
 * not an integer from 0 to 2^31-1, an option that should be a boolean and is not, a Unix
 * socket path longer than the system allows or containing a NUL byte, or both a `path`
 * and TCP options (`host`, `port`, `ipv6Only`, `reusePort`).
 *
 * @example
 * ```ts
 * using listener = yield* listen({ host: '127.0.0.1', port: 0, noDelay: true });
 * const { port } = listener.address as InetAddress;
 * ```
 * @public
 */
export function listen(options: TcpListenOptions | UnixListenOptions): Operation<Listener> {
  return listenOp<Stream, Listener>(
    options,
    (state) => new Stream(state),
    (state) => new Listener(state),
  );
}
