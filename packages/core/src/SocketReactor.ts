import { errnoName as nativeErrnoName, reactorOrNull, type ReadinessListener } from './internal/native/io.js';

export type { ReadinessListener };

/**
 * Readiness bits given to {@link ReadinessListener.onReadiness}.
 * @example
 * ```ts
 * onReadiness(bits) { if (bits & Readiness.readable) this.readable = true; }
 * ```
 * @beta
 */
export const Readiness = {
  /** Input, end of stream, hang-up or an error: the next read says which. */
  readable: 1,
  /** Output space, or an error: the next write says which. */
  writable: 2,
  /** The socket has a pending error ({@link SocketReactor.socketError}). */
  error: 4,
  /** The peer hung up (at least its sending side). */
  hangup: 8,
  /**
   * An armed read ({@link SocketReactor.armRead}) took fewer bytes than it had room for:
   * the receive queue is empty, so clear the readable flag (unless the peer's end was
   * signalled).
   */
  drained: 16,
} as const;

/**
 * Flags of {@link SocketReactor.listen}.
 * @example
 * ```ts
 * reactor.listen(6, '::', 8080, 511, ListenFlags.reusePort, token);
 * ```
 * @beta
 */
export const ListenFlags = {
  reusePort: 1,
  v6Only: 2,
  /** Unix sockets: make the socket file readable by everyone. */
  readableAll: 4,
  /** Unix sockets: make the socket file writable by everyone. */
  writableAll: 8,
} as const;

/**
 * Stream options of {@link SocketReactor.accept}, {@link SocketReactor.connect} and
 * {@link SocketReactor.setOptions} (which applies only the options whose `set*` bit is on).
 * @example
 * ```ts
 * reactor.setOptions(fd, StreamFlags.setNoDelay | StreamFlags.noDelay, 0);
 * ```
 * @beta
 */
export const StreamFlags = {
  noDelay: 1,
  keepAlive: 2,
  setNoDelay: 4,
  setKeepAlive: 8,
} as const;

/**
 * Address families of {@link SocketReactor.listen} and {@link SocketReactor.connect}.
 * @example
 * ```ts
 * reactor.connect(Family.unix, '/tmp/app.sock', 0, undefined, 0, token, 0, 0);
 * ```
 * @beta
 */
export const Family = { unix: 0, ipv4: 4, ipv6: 6 } as const;

/**
 * Non-blocking stream sockets (TCP, Unix domain) on Rioco's native readiness path:
 * this thread's epoll set in the native library, watched from the event loop, with
 * readiness delivered in batches. It is what `@rioco/net` runs on where it is
 * available (Linux with the native library); framework authors can build other
 * transports on it.
 *
 * @remarks
 * Model: edge-triggered readiness, as in mio and tokio. Register a
 * {@link ReadinessListener} to get a token, create the socket with that token, and keep
 * one readiness flag per direction: set it when {@link Readiness} says so, clear it when
 * a call returns `-EAGAIN` (or a read returns fewer bytes than asked: the receive queue
 * is then empty and the next byte raises a new event). Every socket call returns a
 * descriptor or a byte count, or `-errno` (see {@link errnoName}). Addresses are
 * numeric (resolve names first, e.g. with `node:dns`).
 *
 * The reactor keeps the event loop alive only while {@link SocketReactor.hold} is in
 * effect (take it while a fiber waits on a socket). Descriptors belong to the thread's
 * reactor: close them with {@link SocketReactor.close}; those still open when the
 * thread's environment ends are closed then.
 *
 * @example
 * ```ts
 * const r = socketReactor();
 * if (r !== null) {
 *   const token = r.register({ onReadiness: (bits) => console.log('ready', bits) });
 *   const fd = r.listen(Family.ipv4, '127.0.0.1', 0, 511, 0, token);
 * }
 * ```
 * @beta
 */
export interface SocketReactor {
  /** Register a listener; returns the token to create its socket with. */
  register(listener: ReadinessListener): number;
  /** Forget a token (after its socket is closed). */
  unregister(token: number): void;
  /** Keep the event loop alive (counted). */
  hold(): void;
  /** Undo one {@link SocketReactor.hold}. */
  release(): void;
  /** A listening socket: descriptor or -errno. `family` is a {@link Family}; for Unix sockets `address` is the path. */
  listen(family: number, address: string, port: number, backlog: number, flags: number, token: number): number;
  /** Accept one queued connection: descriptor, -EAGAIN when none is queued, or -errno. */
  accept(listenFd: number, token: number, options: number, keepAliveSeconds: number): number;
  /** Start a connection: descriptor (connecting; the first writable readiness ends it) or -errno. */
  connect(
    family: number,
    address: string,
    port: number,
    localAddress: string | undefined,
    localPort: number,
    token: number,
    options: number,
    keepAliveSeconds: number,
  ): number;
  /** The socket's pending error as -errno, 0 when none (how a connection attempt ended). */
  socketError(fd: number): number;
  /**
   * Ask the reactor to read `fd` itself on its next readable event and hand the result
   * to the listener's {@link ReadinessListener.onRead} with that event: one native call
   * per batch of events instead of one per read. Arm it when a reader is about to wait
   * (the readable flag is clear). The read disarms it (so does closing the descriptor);
   * nothing is read while it is not armed, so the kernel's buffer stays the only buffer
   * and TCP's flow control still holds a peer back. Returns false when `fd` cannot be
   * armed (very large descriptor numbers): read it yourself on the event then.
   */
  armRead(fd: number): boolean;
  /** Undo {@link SocketReactor.armRead} (a reader gave up waiting). */
  disarmRead(fd: number): void;
  /** Read into `buf[offset, offset + length)`: bytes read, 0 at the end of stream, or -errno. */
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** Write `buf[offset, offset + length)`: bytes the kernel took, or -errno (never SIGPIPE). */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /**
   * Queue a small write (up to 4 KiB): its bytes are copied now, and every write queued
   * on this thread goes to the kernel in one native call once the fibers running now
   * have run (a microtask), before the thread waits for I/O again. A write the kernel
   * does not take whole is reported to the listener of `token`
   * ({@link ReadinessListener.onWritten}). Returns false when the write was not queued:
   * write it yourself, after {@link SocketReactor.flushWrites} if
   * {@link SocketReactor.hasQueuedWrite} says the socket has bytes queued (so they go
   * first), and behind any bytes the listener was told the kernel did not take. A socket
   * has at most one entry per flush, of at most 4 KiB: queueing again for a socket
   * whose entry is not the last one, or would grow past that, flushes the queue and
   * returns false.
   * @param token - the socket's listener token (it gets the results)
   */
  queueWrite(token: number, fd: number, buf: Uint8Array, offset: number, length: number): boolean;
  /** Whether the socket of `token` has a queued write not flushed yet. */
  hasQueuedWrite(token: number): boolean;
  /**
   * Send every queued write now. Call it before a write that is not queued, a
   * half-close or a close of a socket with bytes queued, so they keep their order.
   */
  flushWrites(): void;
  /** Half-close (FIN after what was written): 0 or -errno. */
  shutdown(fd: number): number;
  /** Change {@link StreamFlags} options: 0 or -errno. */
  setOptions(fd: number, options: number, keepAliveSeconds: number): number;
  /** Close a descriptor; `reset` sends RST instead of FIN: 0 or -errno. */
  close(fd: number, reset: boolean): number;
  /** Local (`peer` false) or remote address, or -errno. */
  address(fd: number, peer: boolean): { family: 'IPv4' | 'IPv6' | 'unix'; address: string; port: number } | number;
}

/**
 * This thread's {@link SocketReactor}, or `null` where the native readiness path is not
 * available (not Linux, or the native library is not built or cannot load).
 * @example
 * ```ts
 * const reactor = socketReactor(); // null: fall back to node:net
 * ```
 * @beta
 */
export function socketReactor(): SocketReactor | null {
  return reactorOrNull();
}

/**
 * The name of a system error number as returned by {@link SocketReactor} calls
 * (`-104` → `'ECONNRESET'`).
 * @example
 * ```ts
 * if (n < 0) throw new Error(errnoName(n));
 * ```
 * @beta
 */
export function errnoName(code: number): string {
  return nativeErrnoName(code);
}
