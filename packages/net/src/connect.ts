import { connect as nodeConnect, type Socket } from 'node:net';
import type { Operation } from '@rioco/core';
import type { WaitOptions } from './WaitOptions.js';
import { Stream } from './Stream.js';
import { ConnectOp, checkConnectOptions } from './internal/connectOp.js';
import { NativeConnectOp } from './internal/nativeConnect.js';
import { nativeReactor } from './internal/driver.js';

/**
 * Socket options of a {@link Stream}, given to {@link connect} or {@link listen}.
 * @example
 * ```ts
 * const opts: StreamOptions = { noDelay: true, keepAlive: true, readHighWaterMark: 256 * 1024 };
 * ```
 * @public
 */
export interface StreamOptions {
  /** Disable Nagle's algorithm (TCP only). Default `false`, as in Node.js. */
  noDelay?: boolean;
  /** Send TCP keep-alive probes (TCP only). Default `false`. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in milliseconds (finite, 0 or more). */
  keepAliveInitialDelay?: number;
  /** Bytes buffered for a fiber that is not reading before the socket pauses. Default 65536. */
  readHighWaterMark?: number;
}

/**
 * Where and how {@link connect} opens a TCP connection.
 * @public
 */
export interface TcpConnectOptions extends StreamOptions, WaitOptions {
  /** Host name or IP address. Default `'localhost'`. */
  host?: string;
  /** Port to connect to, 1..65535. */
  port: number;
  /** Local address to bind to before connecting: an IP address (`'127.0.0.1'`, `'::1'`), not a name. */
  localAddress?: string;
  /** Local port to bind to before connecting, 0..65535 (default, or `0`: any). */
  localPort?: number;
  /** Resolve `host` to this IP family only: `4` or `6`. */
  family?: 4 | 6;
}

/**
 * Where and how {@link connect} opens a Unix domain socket connection.
 * @public
 */
export interface UnixConnectOptions extends StreamOptions, WaitOptions {
  /**
   * Path of the listening socket: at most 107 bytes (UTF-8) on Linux, 103 on macOS and
   * the BSDs (the kernel's `sun_path` limit, without the terminating NUL), with no NUL
   * byte (abstract socket names are not supported).
   */
  path: string;
}

/**
 * Open a connection (TCP with `port`, Unix domain socket with `path`) and return the
 * {@link Stream} once it is established.
 *
 * @remarks
 * The stream belongs to the calling fiber: it is closed when that fiber ends, or earlier
 * with `close()` / `using`. With `timeout` the attempt gives up with
 * {@link TimeoutError}; cancelled or timed out, the half-open socket is destroyed.
 * Fails with {@link ConnectionRefusedError} when nothing listens there.
 *
 * Bad options throw `InvalidArgumentError` (from `@rioco/core`, code `INVALID_ARGUMENT`)
 * at the call, before any socket exists: a port outside 1..65535, a `localAddress` that
 * is not an IP address, a `family` other than 4 or 6, a non-boolean `noDelay` or
 * `keepAlive`, a Unix socket path longer than the system allows or containing a NUL
 * byte, or both a `path` and TCP options (`host`, `port`, …).
 *
 * @example
 * ```ts
 * using conn = yield* connect({ host: '127.0.0.1', port: 7007, timeout: 3_000, noDelay: true });
 * yield* conn.write('ping\n');
 * ```
 * @public
 */
export function connect(options: TcpConnectOptions | UnixConnectOptions): Operation<Stream> {
  const { cfg, target } = checkConnectOptions(options);
  const r = nativeReactor();
  const make = (state: unknown): Stream => new Stream(state);
  return r !== null ? new NativeConnectOp(r, options, cfg, target, make) : new ConnectOp(options, cfg, target, startConnect, make);
}

function startConnect(options: { path?: string }): Socket {
  if (options.path !== undefined) {
    return nodeConnect({ path: options.path, allowHalfOpen: true });
  }
  const o = options as TcpConnectOptions;
  return nodeConnect({
    host: o.host ?? 'localhost',
    port: o.port,
    localAddress: o.localAddress,
    localPort: o.localPort,
    family: o.family,
    allowHalfOpen: true,
    noDelay: o.noDelay === true,
    keepAlive: o.keepAlive === true,
    keepAliveInitialDelay: o.keepAliveInitialDelay,
  });
}
