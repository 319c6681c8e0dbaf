/**
 * The driver behind a Stream: one Node.js socket (TCP or Unix), its receive buffer,
 * one reader slot and the writers waiting for the kernel to take their bytes.
 *
 * Read path invariants:
 * - The socket starts paused and flows only on demand: it is resumed when a reader has
 *   to park (nothing buffered), and paused when bytes arrive while no reader is parked
 *   and `rq.length > hwm`. So a fiber that does not read holds at most
 *   `hwm + one chunk` here plus Node's own readable buffer (~16 KiB), the kernel's
 *   receive window fills, and the peer's writes block: end-to-end backpressure.
 * - Bytes are taken from `rq` only by an operation's `attempt()` while its fiber runs
 *   (wake-then-take, see Waiter), so a cancelled read loses nothing.
 * - Delivery order: buffered bytes first, then the end (`eof`) or the error.
 *
 * Write path invariants:
 * - `write()` returns only when Node's writable buffer is empty, i.e. the kernel took
 *   every byte (the common case: `socket.write` completes synchronously and the call
 *   never parks). Otherwise it parks until a zero-length marker write queued behind the
 *   data completes. So user-space buffering is bounded by one write's size per writer,
 *   `close()` after `write()` loses nothing, and a slow peer parks its writer.
 * - A write cancelled while parked has queued its bytes: they are still sent (unless
 *   the stream is closed first); the next write first waits for them to drain.
 *
 * Lifecycle: open → (eof and/or writeEnded) → closed. `closedByUs` is set by close()
 * or reset() (or the owning fiber's end); `socketClosed` when Node reports 'close'. All
 * parked fibers are woken or failed on every transition, never left parked.
 */
import type { Socket } from 'node:net';
import { waitReason, type Instruction } from '@rioco/core';
import { InvalidArgumentError } from '@rioco/core';
import type { SocketAddress } from '../SocketAddress.js';
import type { WaitOptions } from '../WaitOptions.js';
import {
  LineTooLongError,
  NetError,
  ReadInProgressError,
  SocketClosedError,
  UnexpectedEofError,
} from '../errors.js';
import { ByteQueue } from './ByteQueue.js';
import { BlockingOp, NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter } from './Waiter.js';
import { mapNodeError } from './nodeErrors.js';
import { disown, ownByCurrentFiber, type Owned, type Registry } from './ownership.js';
import { label } from './address.js';

const READ = waitReason('net.stream.read');
const WRITE = waitReason('net.stream.write');
const EMPTY = Buffer.alloc(0);
const NL = 0x0a;
const CR = 0x0d;

export const DEFAULT_READ_HWM = 64 * 1024;
export const DEFAULT_MAX_LINE = 64 * 1024;

export class StreamState implements Owned {
  owner: Registry | null = null;
  ownerFiber = 0;
  readonly socket: Socket;
  readonly rq = new ByteQueue();
  readonly hwm: number;
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  /** We paused the socket (or it was created paused and no reader asked yet). */
  private paused = true;
  eof = false;
  error: NetError | null = null;
  closedByUs = false;
  socketClosed = false;
  writeEnded = false;
  readonly reader: Waiter;
  flushers: Waiter[] = [];
  private markerPending = false;
  /** Reused by every `read()` without options (one reader at a time). */
  readonly readOp: ReadOp;
  private closeWaiters: Array<() => void> | null = null;

  constructor(socket: Socket, hwm: number, local: SocketAddress, remote: SocketAddress) {
    this.socket = socket;
    this.hwm = hwm;
    this.local = local;
    this.remote = remote;
    this.reader = new Waiter(READ, this, () => `read from ${label(this.remote)}`);
    this.readOp = new ReadOp(this, undefined);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    const early = (socket as Socket & { errored?: unknown }).errored;
    if (early) this.error = mapNodeError(early, `connection with ${label(remote)}`);
    if (socket.destroyed) this.socketClosed = true;
    ownByCurrentFiber(this);
  }

  // ---- socket events --------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    this.rq.push(chunk);
    const r = this.reader;
    if (r.resume !== null) r.wake();
    else if (!this.paused && this.rq.length > this.hwm) {
      this.paused = true;
      this.socket.pause();
    }
  };

  private readonly onEnd = (): void => {
    this.eof = true;
    this.reader.wake();
  };

  private readonly onError = (err: Error): void => {
    if (this.error === null) this.error = mapNodeError(err, `connection with ${label(this.remote)}`);
    this.reader.wake();
    this.wakeFlushers();
  };

  private readonly onClose = (): void => {
    this.socketClosed = true;
    this.reader.wake();
    this.wakeFlushers();
    const cw = this.closeWaiters;
    if (cw !== null) {
      this.closeWaiters = null;
      for (const f of cw) f();
    }
  };

  readonly onFinished = (): void => {
    this.wakeFlushers();
  };

  private readonly onMarker = (): void => {
    this.markerPending = false;
    this.wakeFlushers();
  };

  wakeFlushers(): void {
    const ws = this.flushers;
    if (ws.length === 0) return;
    this.flushers = [];
    for (const w of ws) w.wake();
  }

  // ---- read side ------------------------------------------------------------------

  /** Nothing to read now: check for the end/error, then let the socket flow. */
  noData(): null | NotReady {
    if (this.eof) return null;
    this.checkReadable();
    if (this.socketClosed) return null;
    if (this.reader.resume !== null) {
      throw new ReadInProgressError(`another fiber is already reading from ${label(this.remote)}; a stream has one reader at a time`);
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    return NOT_READY;
  }

  checkReadable(): void {
    if (this.closedByUs) throw new SocketClosedError(`the stream to ${label(this.remote)} is closed`);
    if (this.error !== null) throw this.error;
  }

  /** After taking bytes: a paused socket flows again once the buffer is half drained. */
  taken(): void {
    if (this.paused && this.rq.length <= this.hwm >>> 1 && !this.eof) {
      this.paused = false;
      this.socket.resume();
    }
  }

  // ---- write side -----------------------------------------------------------------

  checkWritable(): void {
    if (this.closedByUs) throw new SocketClosedError(`the stream to ${label(this.remote)} is closed`);
    if (this.error !== null) throw this.error;
    if (this.writeEnded) throw new SocketClosedError(`the write side of the stream to ${label(this.remote)} was shut down`);
    if (this.socketClosed || this.socket.destroyed) {
      throw new SocketClosedError(`the connection with ${label(this.remote)} is closed`);
    }
  }

  /** Whether the kernel has taken everything written so far. */
  flushed(): boolean {
    return this.socket.writableLength === 0;
  }

  /** Queue a marker whose completion means "everything before me reached the kernel". */
  requestFlushNotice(): void {
    if (this.markerPending) return;
    this.markerPending = true;
    this.socket.write(EMPTY, this.onMarker);
  }

  // ---- closing --------------------------------------------------------------------

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    disown(this);
    this.rq.clear();
    this.socket.destroy();
    this.failAll();
  }

  reset(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    disown(this);
    this.rq.clear();
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
    this.failAll();
  }

  closeByOwner(): void {
    this.close();
  }

  private failAll(): void {
    const err = new SocketClosedError(`the stream to ${label(this.remote)} was closed while a fiber waited on it`);
    this.reader.fail(err);
    const ws = this.flushers;
    this.flushers = [];
    for (const w of ws) w.fail(err);
  }

  /** Resolves once Node has released the socket. */
  whenClosed(): Promise<void> {
    if (this.socketClosed) return Promise.resolve();
    return new Promise((resolve) => (this.closeWaiters ??= []).push(resolve));
  }

  adopt(): void {
    if (this.closedByUs) return;
    ownByCurrentFiber(this);
  }
}

// ---- operations -----------------------------------------------------------------------

/** `read()`: the next chunk as Node delivered it (no copy), or null at the end. */
export class ReadOp extends BlockingOp<Buffer | null> {
  private readonly s: StreamState;
  constructor(s: StreamState, options: WaitOptions | undefined) {
    super(options);
    this.s = s;
  }
  protected attempt(): Buffer | null | NotReady {
    const s = this.s;
    if (s.rq.length > 0) {
      const c = s.rq.shift();
      s.taken();
      return c;
    }
    return s.noData();
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
  override [Symbol.iterator](): Iterator<Instruction, string | null, unknown> {
    this.scanned = 0;
    return super[Symbol.iterator]();
  }
  protected attempt(): string | null | NotReady {
    const s = this.s;
    const q = s.rq;
    if (q.length > 0) {
      const i = q.indexOf(NL, this.scanned);
      if (i >= 0) {
        if (i > this.max) throw this.tooLong();
        const bytes = q.take(i + 1);
        s.taken();
        const end = i > 0 && bytes[i - 1] === CR ? i - 1 : i;
        return bytes.toString('utf8', 0, end);
      }
      this.scanned = q.length;
      if (q.length > this.max) throw this.tooLong();
    }
    if (s.eof) {
      if (q.length > 0) return q.take(q.length).toString('utf8');
      return null;
    }
    const r = s.noData();
    if (r === null && q.length > 0) return q.take(q.length).toString('utf8');
    return r;
  }
  private tooLong(): LineTooLongError {
    return new LineTooLongError(
      `no line end within ${this.max} bytes from ${label(this.s.remote)}; nothing was consumed (raise maxLength or read() the bytes)`,
    );
  }
  protected waiter(): Waiter {
    return this.s.reader;
  }
  protected what(): string {
    return `readLine from ${label(this.s.remote)}`;
  }
}

/** Shared by write/writeAll/shutdownWrite: park until the kernel took everything queued. */
abstract class FlushingOp extends BlockingOp<void> {
  protected readonly s: StreamState;
  private w: Waiter | null = null;
  /** 0: not started; 1: bytes handed to Node, waiting for the kernel. */
  protected phase = 0;
  constructor(s: StreamState, options: WaitOptions | undefined) {
    super(options);
    this.s = s;
  }
  override [Symbol.iterator](): Iterator<Instruction, void, unknown> {
    this.phase = 0;
    return super[Symbol.iterator]();
  }
  protected abstract start(): void;
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
      if (s.socketClosed || s.socket.destroyed) throw new SocketClosedError(`the connection with ${label(s.remote)} is closed`);
    }
    s.requestFlushNotice();
    return NOT_READY;
  }
  protected waiter(): Waiter {
    const s = this.s;
    const w = (this.w ??= new Waiter(WRITE, s, () => this.what()));
    s.flushers.push(w);
    w.onCancel = () => {
      const i = s.flushers.indexOf(w);
      if (i >= 0) s.flushers.splice(i, 1);
    };
    return w;
  }
}

export type Bytes = Uint8Array | string;

export function checkBytes(b: unknown, what: string): void {
  if (typeof b !== 'string' && !(b instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what}: expected a Uint8Array (or Buffer) or a string`);
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
    this.s.socket.write(this.bytes);
  }
  protected what(): string {
    return `write to ${label(this.s.remote)}`;
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
    const sock = this.s.socket;
    // Corked writes go to the kernel as one writev().
    sock.cork();
    for (const c of this.chunks) sock.write(c);
    sock.uncork();
  }
  protected what(): string {
    return `writeAll to ${label(this.s.remote)}`;
  }
}

export class ShutdownOp extends BlockingOp<void> {
  private readonly s: StreamState;
  private w: Waiter | null = null;
  private started = false;
  constructor(s: StreamState, options: WaitOptions | undefined) {
    super(options);
    this.s = s;
  }
  override [Symbol.iterator](): Iterator<Instruction, void, unknown> {
    this.started = false;
    return super[Symbol.iterator]();
  }
  protected attempt(): void | NotReady {
    const s = this.s;
    if (!this.started) {
      if (s.closedByUs) throw new SocketClosedError(`the stream to ${label(s.remote)} is closed`);
      if (s.error !== null) throw s.error;
      if (!s.writeEnded) {
        if (s.socketClosed || s.socket.destroyed) throw new SocketClosedError(`the connection with ${label(s.remote)} is closed`);
        s.writeEnded = true;
        // 'finish' (FIN handed to the kernel after the queued bytes) wakes us.
        s.socket.end(s.onFinished);
      }
      this.started = true;
    }
    if (s.socket.writableFinished) return;
    if (s.closedByUs) throw new SocketClosedError(`the stream to ${label(s.remote)} was closed before its shutdown completed`);
    if (s.error !== null) throw s.error;
    if (s.socketClosed) return;
    return NOT_READY;
  }
  protected waiter(): Waiter {
    const s = this.s;
    const w = (this.w ??= new Waiter(WRITE, s, () => this.what()));
    s.flushers.push(w);
    w.onCancel = () => {
      const i = s.flushers.indexOf(w);
      if (i >= 0) s.flushers.splice(i, 1);
    };
    return w;
  }
  protected what(): string {
    return `shutdownWrite of ${label(this.s.remote)}`;
  }
}
