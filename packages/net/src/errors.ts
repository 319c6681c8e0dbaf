/**
 * Errors raised by `@rioco/net`. Every one is a {@link NetError} (a `RiocoError`), so
 * callers branch on the stable `err.code`; errors that come from the operating system
 * also carry the system code in `err.syscallCode` (`'ECONNRESET'`) and the Node.js error
 * in `err.cause`.
 */
import { RiocoError } from '@rioco/core';

/**
 * Stable codes of the errors `@rioco/net` raises. A code never changes meaning once
 * released.
 * @public
 */
export type NetErrorCode =
  | 'CONNECTION_RESET'
  | 'BROKEN_PIPE'
  | 'CONNECTION_REFUSED'
  | 'ADDRESS_IN_USE'
  | 'TOO_MANY_OPEN_FILES'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'SOCKET_CLOSED'
  | 'UNEXPECTED_EOF'
  | 'LINE_TOO_LONG'
  | 'READ_IN_PROGRESS'
  | 'UNSUPPORTED'
  | 'NET_ERROR';

/**
 * Base class of every `@rioco/net` error.
 *
 * @remarks
 * `code` is a stable {@link NetErrorCode}; `syscallCode` is the operating system's code
 * (`'ECONNRESET'`, `'EMFILE'`, …) when the error came from a system call, else
 * `undefined`; `cause` is the original Node.js error.
 *
 * @example
 * ```ts
 * try { yield* conn.write(bytes); } catch (err) {
 *   if (err instanceof NetError && err.code === 'CONNECTION_RESET') console.log('peer went away');
 * }
 * ```
 * @public
 */
export class NetError extends RiocoError {
  /** The system error code (`'ECONNRESET'`), when the operating system reported the failure. */
  readonly syscallCode: string | undefined;
  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown; syscallCode?: string }) {
    super(code, message, options);
    this.syscallCode = options?.syscallCode;
  }
}

/**
 * The peer reset the connection (`ECONNRESET`): it closed abruptly or crashed.
 * @example
 * ```ts
 * catch (err) { if (err instanceof ConnectionResetError) conn.close(); }
 * ```
 * @public
 */
export class ConnectionResetError extends NetError {
  constructor(message: string, options?: { cause?: unknown; syscallCode?: string }) {
    super('CONNECTION_RESET', message, options);
  }
}

/**
 * Wrote to a connection whose peer has closed it (`EPIPE`).
 * @example
 * ```ts
 * catch (err) { if (err instanceof BrokenPipeError) console.log('peer closed; stop writing'); }
 * ```
 * @public
 */
export class BrokenPipeError extends NetError {
  constructor(message: string, options?: { cause?: unknown; syscallCode?: string }) {
    super('BROKEN_PIPE', message, options);
  }
}

/**
 * Nothing listens at the address (`ECONNREFUSED`, or `ENOENT` for a Unix socket path).
 * @example
 * ```ts
 * catch (err) { if (err instanceof ConnectionRefusedError) console.log('is the server running?'); }
 * ```
 * @public
 */
export class ConnectionRefusedError extends NetError {
  constructor(message: string, options?: { cause?: unknown; syscallCode?: string }) {
    super('CONNECTION_REFUSED', message, options);
  }
}

/**
 * Another socket already listens on the address (`EADDRINUSE`).
 * @example
 * ```ts
 * catch (err) { if (err instanceof AddressInUseError) listener = yield* listen({ host, port: 0 }); }
 * ```
 * @public
 */
export class AddressInUseError extends NetError {
  constructor(message: string, options?: { cause?: unknown; syscallCode?: string }) {
    super('ADDRESS_IN_USE', message, options);
  }
}

/**
 * The process (`EMFILE`) or the system (`ENFILE`) ran out of file descriptors. A
 * {@link Listener} stays usable: the next `accept()` works once descriptors are free.
 * @example
 * ```ts
 * catch (err) { if (err instanceof TooManyOpenFilesError) continue; } // keep accepting
 * ```
 * @public
 */
export class TooManyOpenFilesError extends NetError {
  constructor(message: string, options?: { cause?: unknown; syscallCode?: string }) {
    super('TOO_MANY_OPEN_FILES', message, options);
  }
}

/**
 * A blocking call did not complete within its `timeout` (or the kernel gave up:
 * `ETIMEDOUT`). For reads, nothing was consumed: the next read returns the bytes.
 * @example
 * ```ts
 * try { yield* conn.read({ timeout: 5_000 }); } catch (err) { if (err instanceof TimeoutError) conn.close(); }
 * ```
 * @public
 */
export class TimeoutError extends NetError {
  constructor(message: string, options?: { cause?: unknown; syscallCode?: string }) {
    super('TIMED_OUT', message, options);
  }
}

/**
 * A blocking call's `signal` aborted. `cause` is the signal's reason.
 * @example
 * ```ts
 * const ac = new AbortController();
 * try { yield* conn.read({ signal: ac.signal }); } catch (err) { err instanceof AbortedError; }
 * ```
 * @public
 */
export class AbortedError extends NetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/**
 * The socket or listener was closed (by this program) before or during the call.
 * @example
 * ```ts
 * conn.close();
 * yield* conn.read(); // throws SocketClosedError (code SOCKET_CLOSED)
 * ```
 * @public
 */
export class SocketClosedError extends NetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SOCKET_CLOSED', message, options);
  }
}

/**
 * The peer ended the stream before `readExactly(n)` got `n` bytes. The bytes that did
 * arrive stay buffered (`available`): a following `read()` returns them.
 * @example
 * ```ts
 * try { yield* conn.readExactly(8); } catch (err) { if (err instanceof UnexpectedEofError) console.log(err.available); }
 * ```
 * @public
 */
export class UnexpectedEofError extends NetError {
  /** Bytes that arrived before the end and are still buffered. */
  readonly available: number;
  constructor(message: string, available: number) {
    super('UNEXPECTED_EOF', message);
    this.available = available;
  }
}

/**
 * `readLine()` found a line longer than `maxLength` bytes, not counting its `\n` or
 * `\r\n`. Nothing was consumed: the bytes stay buffered for the next read.
 * @example
 * ```ts
 * try { yield* conn.readLine({ maxLength: 1024 }); } catch (err) { if (err instanceof LineTooLongError) conn.close(); }
 * ```
 * @public
 */
export class LineTooLongError extends NetError {
  constructor(message: string) {
    super('LINE_TOO_LONG', message);
  }
}

/**
 * Another fiber is already blocked reading this stream (or receiving on this UDP
 * socket): a stream has one reader at a time, so bytes are never split between two.
 * @example
 * ```ts
 * spawn(() => conn.read()); yield* conn.read(); // the second reader throws ReadInProgressError
 * ```
 * @public
 */
export class ReadInProgressError extends NetError {
  constructor(message: string) {
    super('READ_IN_PROGRESS', message);
  }
}

/**
 * The option is not available on this Node.js version or platform (for example
 * `reusePort` before Node.js 22.12).
 * @example
 * ```ts
 * try { yield* listen({ port: 7007, reusePort: true }); } catch (err) { if (err instanceof UnsupportedError) console.log(err.message); }
 * ```
 * @public
 */
export class UnsupportedError extends NetError {
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}
