/**
 * The blocking operations of a Stream, written once against StreamState (so both
 * drivers share them). Each one tries `fill()` before it decides it must park, takes
 * bytes only in `attempt()` (so a cancelled read consumed nothing), and reports the end
 * and errors through `noData()`.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError, waitReason, type Instruction, type Operation } from '@rioco/core';
import type { WaitOptions } from '../WaitOptions.js';
import { LineTooLongError, SocketClosedError, UnexpectedEofError } from '../errors.js';
import { BlockingOp, COMPLETED, NOT_READY, checkWaitOptions, takeBudget, type NotReady } from './BlockingOp.js';
import { Waiter } from './Waiter.js';
import { label } from './address.js';
import type { StreamState } from './StreamState.js';

const WRITE = waitReason('net.stream.write');
const EMPTY = Buffer.alloc(0);
const NL = 0x0a;
const CR = 0x0d;

export const DEFAULT_READ_HWM = 64 * 1024;
export const DEFAULT_MAX_LINE = 64 * 1024;

export type Bytes = Uint8Array | string;

export function checkBytes(b: unknown, what: string): void {
  if (typeof b !== 'string' && !(b instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what}: expected a Uint8Array (or Buffer) or a string`);
  }
}

/** `read()`: the next chunk as the transport delivered it (no copy), or null at the end. */
export class ReadOp extends BlockingOp<Buffer | null> {
  private readonly s: StreamState;
  constructor(s: StreamState, options: WaitOptions | undefined) {
    super(options);
    this.s = s;
  }
  protected attempt(): Buffer | null | NotReady {
    const s = this.s;
    if (s.rq.length === 0 && !s.fill()) return s.noData();
    const c = s.rq.shift();
    s.taken();
    return c;
  }
  protected waiter(): Waiter {
    return this.s.reader;
  }
  protected what(): string {
    return `read from ${label(this.s.remote)}`;
  }
}

/** `readExactly(n)`: consumes nothing until `n` bytes are buffered. */
export class ReadExactlyOp extends BlockingOp<Buffer> {
  private readonly s: StreamState;
  private readonly n: number;
  constructor(s: StreamState, n: number, options: WaitOptions | undefined) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`readExactly: n must be an integer >= 0, got ${String(n)}`);
    }
    super(options);
    this.s = s;
    this.n = n;
  }
  protected attempt(): Buffer | NotReady {
    const s = this.s;
    const n = this.n;
    if (n === 0) {
      s.checkReadable();
      return EMPTY;
    }
    while (s.rq.length < n && s.fill()) {
      // the driver had more at once
    }
    if (s.rq.length >= n) {
      const b = s.rq.take(n);
      s.taken();
      return b;
    }
    if (s.noData() === null) {
      throw new UnexpectedEofError(
        `the stream from ${label(s.remote)} ended after ${s.rq.length} of ${n} bytes; they stay buffered for the next read`,
        s.rq.length,
      );
    }
    return NOT_READY;
  }
  protected waiter(): Waiter {
    return this.s.reader;
  }
  protected what(): string {
    return `readExactly(${this.n}) from ${label(this.s.remote)}`;
  }
}

/** `readLine()`: a UTF-8 line without its `\n` / `\r\n`; the last unterminated line at the end; then null. */
export class ReadLineOp extends BlockingOp<string | null> {
  private readonly s: StreamState;
  private readonly max: number;
  private scanned = 0;
  constructor(s: StreamState, options: (WaitOptions & { maxLength?: number }) | undefined) {
    const max = options?.maxLength ?? DEFAULT_MAX_LINE;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(`readLine: maxLength must be an integer >= 1, got ${String(max)}`);
    }
    super(options);
    this.s = s;
    this.max = max;
  }
  protected override reset(): void {
    this.scanned = 0;
  }
  /**
   * `maxLength` bounds the line's content, without its `\n` or `\r\n`: a line end at
   * offset `i` ends a line of `i` bytes, or `i - 1` after a CR. Without a line end yet,
   * the content is at least every buffered byte but a last CR (it may start a CRLF).
   */
  protected attempt(): string | null | NotReady {
    const s = this.s;
    const q = s.rq;
    const max = this.max;
    do {
      if (q.length > this.scanned) {
        const i = q.indexOf(NL, this.scanned);
        if (i >= 0) {
          // Content of i bytes, or i - 1 after a CR: too long past max, or at max + 1 without the CR.
          if (i > max && (i > max + 1 || q.at(i - 1) !== CR)) throw this.tooLong();
          const bytes = q.take(i + 1);
          s.taken();
          const end = i > 0 && bytes[i - 1] === CR ? i - 1 : i;
          return bytes.toString('utf8', 0, end);
        }
        this.scanned = q.length;
        if (q.length > max + 1 || (q.length === max + 1 && q.at(max) !== CR)) throw this.tooLong();
      }
    } while (s.fill());
    // The end: the last line has no line end, so every byte counts (a last CR too).
    if (s.eof) return this.lastLine();
    const r = s.noData();
    return r === null ? this.lastLine() : r;
  }
  private lastLine(): string | null {
    const q = this.s.rq;
    if (q.length === 0) return null;
    if (q.length > this.max) throw this.tooLong();
    return q.take(q.length).toString('utf8');
  }
  private tooLong(): LineTooLongError {
    return new LineTooLongError(
      `a line from ${label(this.s.remote)} is longer than maxLength (${this.max} bytes, not counting its line end); nothing was consumed (raise maxLength or read() the bytes)`,
    );
  }
  protected waiter(): Waiter {
    return this.s.reader;
  }
  protected what(): string {
    return `readLine from ${label(this.s.remote)}`;
  }
}

/** Park `s`'s writer until the driver calls wakeFlushers(). */
function flusher(s: StreamState, op: { w: Waiter | null; what(): string }): Waiter {
  let w = op.w;
  if (w === null) {
    const made = (w = op.w = new Waiter(WRITE, s, () => op.what()));
    made.keepAlive = s.keepAlive;
    made.onLeave = () => {
      const i = s.flushers.indexOf(made);
      if (i >= 0) s.flushers.splice(i, 1);
    };
  }
  s.flushers.push(w);
  return w;
}

/** Shared by write/writeAll: park until the kernel took everything queued. */
abstract class FlushingOp extends BlockingOp<void> {
  protected readonly s: StreamState;
  w: Waiter | null = null;
  /** 0: not started; 1: bytes handed to the driver, waiting for the kernel. */
  protected phase = 0;
  constructor(s: StreamState, options: WaitOptions | undefined) {
    super(options);
    this.s = s;
  }
  /** The bytes were handed to the driver before the run (WriteCall's fast path). */
  sent = false;
  protected override reset(): void {
    this.phase = this.sent ? 1 : 0;
    this.sent = false;
  }
  protected abstract start(): void;
  abstract override what(): string;
  protected attempt(): void | NotReady {
    const s = this.s;
    if (this.phase === 0) {
      s.checkWritable();
      if (!s.flushed()) {
        // Bytes of an earlier, cancelled write are still queued: let them drain first.
        s.requestFlushNotice();
        return NOT_READY;
      }
      this.start();
      this.phase = 1;
      if (s.flushed()) return;
    } else {
      if (s.closedByUs) throw new SocketClosedError(`the stream to ${label(s.remote)} is closed`);
      if (s.error !== null) throw s.error;
      if (s.flushed()) return;
      if (s.transportClosed()) throw new SocketClosedError(`the connection with ${label(s.remote)} is closed`);
    }
    s.requestFlushNotice();
    return NOT_READY;
  }
  protected waiter(): Waiter {
    return flusher(this.s, this);
  }
}

export class WriteOp extends FlushingOp {
  private readonly bytes: Bytes;
  constructor(s: StreamState, bytes: Bytes, options: WaitOptions | undefined) {
    checkBytes(bytes, 'write');
    super(s, options);
    this.bytes = bytes;
  }
  protected start(): void {
    this.s.send(this.bytes);
  }
  what(): string {
    return `write to ${label(this.s.remote)}`;
  }
}

/**
 * What `write()` returns: the bytes and options only. Running it takes the fast path
 * when it can (no options, budget left, nothing queued): the bytes go to the driver at
 * once and, if the kernel took them all, the call is over without an operation record.
 * Otherwise (a timeout or signal, the budget spent, bytes of an earlier write still
 * queued, or the kernel not taking everything) it runs a WriteOp, which parks as
 * needed. Each run writes again, as with every operation.
 */
export class WriteCall implements Operation<void> {
  private readonly s: StreamState;
  private readonly bytes: Bytes;
  private readonly options: WaitOptions | undefined;
  constructor(s: StreamState, bytes: Bytes, options: WaitOptions | undefined) {
    checkBytes(bytes, 'write');
    if (options !== undefined) checkWaitOptions(options);
    this.s = s;
    this.bytes = bytes;
    this.options = options;
  }
  [Symbol.iterator](): Iterator<Instruction, void, unknown> {
    const s = this.s;
    if (this.options !== undefined || !s.flushed() || !takeBudget()) {
      return new WriteOp(s, this.bytes, this.options)[Symbol.iterator]();
    }
    s.checkWritable();
    s.send(this.bytes);
    if (s.flushed()) return COMPLETED;
    // The kernel took part of it: wait for the rest like a parked write.
    const op = new WriteOp(s, this.bytes, undefined);
    op.sent = true;
    return op[Symbol.iterator]();
  }
}

export class WriteAllOp extends FlushingOp {
  private readonly chunks: readonly Bytes[];
  constructor(s: StreamState, chunks: readonly Bytes[], options: WaitOptions | undefined) {
    if (!Array.isArray(chunks)) throw new InvalidArgumentError('writeAll: expected an array of Uint8Array or string chunks');
    for (const c of chunks) checkBytes(c, 'writeAll');
    super(s, options);
    this.chunks = chunks;
  }
  protected start(): void {
    this.s.sendAll(this.chunks);
  }
  what(): string {
    return `writeAll to ${label(this.s.remote)}`;
  }
}

export class ShutdownOp extends BlockingOp<void> {
  private readonly s: StreamState;
  w: Waiter | null = null;
  private started = false;
  constructor(s: StreamState, options: WaitOptions | undefined) {
    super(options);
    this.s = s;
  }
  protected override reset(): void {
    this.started = false;
  }
  protected attempt(): void | NotReady {
    const s = this.s;
    if (!this.started) {
      if (s.closedByUs) throw new SocketClosedError(`the stream to ${label(s.remote)} is closed`);
      if (s.error !== null) throw s.error;
      if (!s.writeEnded) {
        if (s.transportClosed()) throw new SocketClosedError(`the connection with ${label(s.remote)} is closed`);
        s.writeEnded = true;
        s.beginShutdown();
      }
      this.started = true;
    }
    if (s.shutdownDone()) return;
    if (s.closedByUs) throw new SocketClosedError(`the stream to ${label(s.remote)} was closed before its shutdown completed`);
    if (s.error !== null) throw s.error;
    if (s.transportClosed()) return;
    return NOT_READY;
  }
  protected waiter(): Waiter {
    return flusher(this.s, this);
  }
  what(): string {
    return `shutdownWrite of ${label(this.s.remote)}`;
  }
}
