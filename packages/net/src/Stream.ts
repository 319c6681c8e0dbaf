import { Buffer } from 'node:buffer';
import type { Operation } from '@rioco/core';
import type { SocketAddress } from './SocketAddress.js';
import type { WaitOptions } from './WaitOptions.js';
import { ReadExactlyOp, ReadLineOp, ReadOp, ShutdownOp, WriteAllOp, WriteCall } from './internal/streamOps.js';
import type { StreamState } from './internal/StreamState.js';
import { checkBool, checkDelay } from './internal/address.js';

/**
 * Options of {@link Stream.readLine}.
 * @public
 */
export interface ReadLineOptions extends WaitOptions {
  /** Longest line accepted, in bytes, without its line end (`\n` or `\r\n`); an integer, at least 1; default 65536. */
  maxLength?: number;
}

/**
 * A connected TCP or Unix domain socket, read and written in blocking style from a fiber.
 *
 * @remarks
 * Every method that waits is an operation (`yield*` it) that takes {@link WaitOptions}
 * (a timeout, an AbortSignal) and is cancellable; a read that times out, aborts or is
 * cancelled consumed nothing, so no byte is lost.
 *
 * Backpressure both ways: the stream reads from the kernel only while the fiber reads
 * (it pauses once `readHighWaterMark` bytes are buffered and nobody reads), and
 * `write()` parks until the kernel has taken the bytes, so a slow peer slows the
 * writer down instead of growing memory.
 *
 * Ownership: a stream belongs to the fiber that created it (`connect`, `accept`) and is
 * closed when that fiber ends; `using conn = yield* connect(…)` closes it at the end of
 * the block, `adopt()` hands it to another fiber (a per-connection handler).
 *
 * Errors are {@link NetError}s with a stable code (`CONNECTION_RESET`, `BROKEN_PIPE`, …)
 * and the system code in `syscallCode`.
 *
 * @example
 * ```ts
 * using conn = yield* connect({ host: '127.0.0.1', port: 7007 });
 * yield* conn.write('hello\n');
 * const reply = yield* conn.readLine({ timeout: 5_000 });
 * ```
 * @public
 */
export class Stream implements Disposable, AsyncDisposable {
  private readonly s: StreamState;

  /** @internal */
  constructor(state: unknown) {
    this.s = state as StreamState;
  }

  /** This end's address. */
  get localAddress(): SocketAddress {
    return this.s.local;
  }

  /** The peer's address. */
  get remoteAddress(): SocketAddress {
    return this.s.remote;
  }

  /** Bytes received and read from the kernel but not read by a fiber yet. */
  get bufferedReadBytes(): number {
    return this.s.bufferedReadBytes();
  }

  /** Bytes written but not yet taken by the kernel. */
  get bufferedWriteBytes(): number {
    return this.s.bufferedWriteBytes();
  }

  /** Whether `close()` or `reset()` was called (or the owning fiber ended). */
  get closed(): boolean {
    return this.s.closedByUs;
  }

  /**
   * The next chunk of bytes as they arrived (not copied), or `null` once the peer has
   * ended its side and every byte was read.
   * @example
   * ```ts
   * for (let b; (b = yield* conn.read()) !== null; ) yield* conn.write(b); // echo
   * ```
   */
  read(options?: WaitOptions): Operation<Buffer | null> {
    return options === undefined ? this.s.readOp : new ReadOp(this.s, options);
  }

  /**
   * Exactly `n` bytes. Consumes nothing until all `n` have arrived; throws
   * {@link UnexpectedEofError} if the stream ends first (the partial bytes stay buffered).
   * @example
   * ```ts
   * const header = yield* conn.readExactly(4);
   * const body = yield* conn.readExactly(header.readUInt32BE(0));
   * ```
   */
  readExactly(n: number, options?: WaitOptions): Operation<Buffer> {
    return new ReadExactlyOp(this.s, n, options);
  }

  /**
   * The next line as a UTF-8 string without its `\n` or `\r\n`; at the end, the last
   * unterminated line, then `null`. Throws {@link LineTooLongError} (consuming nothing)
   * when the line is longer than `maxLength` bytes, not counting its `\n` or `\r\n`
   * (`maxLength: 3` accepts `"abc\r\n"` and rejects `"abcd\n"`).
   * @example
   * ```ts
   * let line; while ((line = yield* conn.readLine()) !== null) yield* conn.write(line.toUpperCase() + '\n');
   * ```
   */
  readLine(options?: ReadLineOptions): Operation<string | null> {
    return new ReadLineOp(this.s, options);
  }

  /**
   * Write `bytes` (a string is sent as UTF-8). Returns once the kernel has taken them
   * (at once in the common case); parks while the peer is not reading. A write that
   * times out or is cancelled while parked has queued its bytes: they are still sent.
   *
   * On the native readiness path a small write (up to 4 KiB) returns once its bytes are
   * copied: the thread's small writes go to the kernel together, in one native call,
   * after the fibers running now and before the thread waits for I/O again. Closing or
   * shutting the stream down sends them first. If the kernel then refuses them (the
   * peer reset the connection), the stream's next operation throws that error. The
   * bytes may be reused as soon as `write` returns, either way.
   * @example
   * ```ts
   * yield* conn.write(Buffer.from([1, 2, 3]), { timeout: 10_000 });
   * ```
   */
  write(bytes: Uint8Array | string, options?: WaitOptions): Operation<void> {
    return new WriteCall(this.s, bytes, options);
  }

  /**
   * Write several chunks in order, handed to the kernel in one system call (writev);
   * parks like {@link Stream.write}.
   * @example
   * ```ts
   * yield* conn.writeAll([header, body]);
   * ```
   */
  writeAll(chunks: readonly (Uint8Array | string)[], options?: WaitOptions): Operation<void> {
    return new WriteAllOp(this.s, chunks, options);
  }

  /**
   * Half-close: send the end of stream (FIN) after everything written, and keep
   * reading what the peer still sends. Idempotent. Later writes throw
   * {@link SocketClosedError}.
   * @example
   * ```ts
   * yield* conn.write(request); yield* conn.shutdownWrite();
   * const reply = yield* conn.readExactly(n); // the peer saw the end and answered
   * ```
   */
  shutdownWrite(options?: WaitOptions): Operation<void> {
    return new ShutdownOp(this.s, options);
  }

  /**
   * Disable (`true`, the usual choice for request/response) or enable Nagle's algorithm.
   * A non-boolean argument throws `InvalidArgumentError`.
   * @example
   * ```ts
   * conn.setNoDelay(true);
   * ```
   */
  setNoDelay(noDelay = true): void {
    checkBool(noDelay, 'noDelay', 'setNoDelay');
    this.s.setNoDelay(noDelay);
  }

  /**
   * Turn TCP keep-alive probes on or off; `initialDelay` in milliseconds (finite, 0 or more).
   * A non-boolean `enable` or a bad delay throws `InvalidArgumentError`.
   * @example
   * ```ts
   * conn.setKeepAlive(true, 30_000);
   * ```
   */
  setKeepAlive(enable: boolean, initialDelay = 0): void {
    checkBool(enable, 'enable', 'setKeepAlive', true);
    checkDelay(initialDelay, 'initialDelay', 'setKeepAlive');
    this.s.setKeepAlive(enable, initialDelay);
  }

  /**
   * Make the current fiber this stream's owner: the stream is closed when that fiber
   * ends (instead of when its creator ends). Call it first thing in a per-connection
   * handler spawned by an accept loop.
   * @example
   * ```ts
   * function* handle(conn: Stream): Operation<void> { conn.adopt(); … }
   * ```
   */
  adopt(): void {
    this.s.adopt();
  }

  /**
   * Close the stream now. Bytes that `write()` returned for were already taken by the
   * kernel and are still delivered; unread input is dropped. Fibers waiting on the
   * stream get {@link SocketClosedError}. Idempotent.
   * @example
   * ```ts
   * conn.close();
   * ```
   */
  close(): void {
    this.s.close();
  }

  /**
   * Close abruptly with a TCP reset (RST): the peer's next read or write fails with
   * `CONNECTION_RESET`. Unread input and bytes the kernel has not sent yet are dropped.
   * Idempotent.
   *
   * @remarks
   * Unix domain streams have no reset: there `reset()` is the same as
   * {@link Stream.close} (the peer sees the end of stream).
   * @example
   * ```ts
   * if (abusive) conn.reset();
   * ```
   */
  reset(): void {
    this.s.reset();
  }

  /**
   * Same as {@link Stream.close}, for `using`.
   * @example
   * ```ts
   * using conn = yield* connect({ host: '127.0.0.1', port: 7007 });
   * ```
   */
  [Symbol.dispose](): void {
    this.s.close();
  }

  /**
   * Close, then wait until the socket is released, for `await using`.
   * @example
   * ```ts
   * await conn[Symbol.asyncDispose]();
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.s.close();
    return this.s.whenClosed();
  }
}
