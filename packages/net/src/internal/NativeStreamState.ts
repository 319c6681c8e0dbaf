/**
 * The native driver of a Stream: a non-blocking descriptor on @rioco/core's socket
 * reactor (one epoll set per thread, edge-triggered; see SocketReactor there).
 *
 * Readiness, as in mio/tokio: `readable` and `writable` are hints set by the reactor's
 * events and cleared when a system call says EAGAIN; a read that returns fewer bytes
 * than asked also clears `readable` (a stream socket's receive queue is then empty, and
 * the next byte raises a new event) — unless the peer's end of stream was already
 * signalled (`readClosed`, sticky as tokio's READ_CLOSED): a FIN that arrived with the
 * last bytes raises no later event, so the socket stays readable until read says 0.
 * Both start true for an accepted socket, so its first read goes straight to the kernel.
 *
 * Read path: nothing is read unless a fiber reads, so the kernel's receive buffer is the
 * only buffer, and a peer that sends faster than we read is held back by TCP itself.
 * A fiber reads in an operation's attempt (`fill()`); when that finds nothing and the
 * fiber is about to park, `wantData()` arms the descriptor, and the reactor reads it
 * itself on the next readable event and hands the chunk over with the event
 * (`onRead`), so a steady connection costs no native call per read. Chunks are views
 * of 64 KiB slabs (no copy, no allocation per read beyond the view).
 *
 * Write path: `send()` queues a small write on the reactor (a copy, sent with every
 * other write of the thread in one native call once the running fibers have run; see
 * SocketReactor.queueWrite) and writes a large one at once, after this stream's queued
 * bytes. What the kernel did not take, at once or from the queue (`onWritten`), waits
 * in `pending` and is written when the socket turns writable again; a queued write that
 * failed fails the stream (the next operation throws the error). Invariants:
 * `pending !== null` implies `!writable` (every writable event flushes first); only a
 * writable stream with nothing pending queues, so queued bytes never pass pending ones;
 * a shutdown or close flushes the stream's queued bytes first.
 *
 * Lifecycle: the descriptor is closed exactly once, by `closeTransport`; the token is
 * unregistered right after, so a late event finds no listener.
 */
import { Buffer } from 'node:buffer';
import { Readiness, StreamFlags, type ReadinessListener, type SocketReactor } from '@rioco/core';
import type { SocketAddress } from '../SocketAddress.js';
import { inet, label, unix } from './address.js';
import { EAGAIN, errnoError } from './errno.js';
import { StreamState } from './StreamState.js';
import type { Bytes } from './streamOps.js';
import type { Waiter } from './Waiter.js';
import { ownByCurrentFiber } from './ownership.js';

const SLAB = 64 * 1024;
/** A slab with less room than this is retired: reads stay large. */
const MIN_READ = 16 * 1024;

let slab: Buffer = Buffer.allocUnsafeSlow(SLAB);
/** `slab.buffer` and `slab.byteOffset`, read once per slab (`.buffer` is a runtime call). */
let slabAb = slab.buffer as ArrayBuffer;
let slabBase = slab.byteOffset;
let slabOff = 0;

export class NativeStreamState extends StreamState implements ReadinessListener {
  readonly r: SocketReactor;
  readonly keepAlive: SocketReactor;
  readonly token: number;
  fd = -1;
  readable = true;
  writable = true;
  /** The peer's end of stream (or a hang-up) was signalled: never clear `readable` again. */
  private readClosed = false;
  /** The event being delivered came with an armed read that emptied the receive queue. */
  private drainedByReactor = false;
  /** Bytes the kernel has not taken yet (see the invariant above). */
  private pending: Uint8Array | null = null;
  private shutdownPending = false;
  private shutdownSent = false;
  socketClosed = false;
  /** A connect() in progress parks here until the first writable event. */
  connectWaiter: Waiter | null = null;
  private localAddr: SocketAddress | null = null;
  private remoteAddr: SocketAddress | null;
  /** The path of a Unix socket (the kernel names only the listening end). */
  private readonly unixPath: string | undefined;
  private readonly serverSide: boolean;

  /** Register with the reactor; `open(fd)` follows once the descriptor exists. */
  constructor(r: SocketReactor, remote: SocketAddress | null, unixPath: string | undefined, serverSide: boolean) {
    super();
    this.r = r;
    this.keepAlive = r;
    this.token = r.register(this);
    this.remoteAddr = remote;
    this.unixPath = unixPath;
    this.serverSide = serverSide;
    this.reader.keepAlive = r;
  }

  /** The descriptor exists (accepted, or connecting when `connecting`). */
  open(fd: number, connecting: boolean): void {
    this.fd = fd;
    this.writable = !connecting;
    ownByCurrentFiber(this);
  }

  /** The descriptor never came to be: give the token back. */
  discard(): void {
    this.socketClosed = true;
    this.r.unregister(this.token);
  }

  get local(): SocketAddress {
    return (this.localAddr ??= this.address(false));
  }

  get remote(): SocketAddress {
    return (this.remoteAddr ??= this.address(true));
  }

  private address(peer: boolean): SocketAddress {
    if (this.unixPath !== undefined) {
      // The connecting end of a Unix socket is unnamed.
      return unix(peer !== this.serverSide ? this.unixPath : '');
    }
    const a = this.fd < 0 ? -1 : this.r.address(this.fd, peer);
    return typeof a === 'number' ? inet('', 0, undefined) : inet(a.address, a.port, a.family);
  }

  onReadiness(bits: number): void {
    if (bits & Readiness.hangup) this.readClosed = true;
    if (bits & Readiness.drained && !this.readClosed) this.drainedByReactor = true;
    if (bits & Readiness.readable) {
      this.readable = true;
      if (this.reader.resume !== null) this.reader.wake();
    }
    if (bits & Readiness.writable) {
      this.writable = true;
      const cw = this.connectWaiter;
      if (cw !== null) cw.wake();
      else if (this.pending !== null) this.flushPending();
    }
  }

  /** The armed read of the event just delivered (see wantData). */
  onRead(result: number, chunk: Buffer | null): void {
    if (chunk !== null) {
      this.rq.push(chunk);
      if (this.drainedByReactor) this.readable = false;
    } else {
      this.readable = false;
      if (result === 0) this.eof = true;
      else this.failWith(errnoError(result, 'read', `connection with ${label(this.remote)}`));
    }
    this.drainedByReactor = false;
  }

  // ---- read side ------------------------------------------------------------------

  fill(): boolean {
    if (!this.readable || this.eof || this.closedByUs || this.error !== null) return false;
    if (SLAB - slabOff < MIN_READ) {
      slab = Buffer.allocUnsafeSlow(SLAB);
      slabAb = slab.buffer as ArrayBuffer;
      slabBase = slab.byteOffset;
      slabOff = 0;
    }
    const off = slabOff;
    const want = SLAB - off;
    const n = this.r.read(this.fd, slab, off, want);
    if (n > 0) {
      slabOff = off + n;
      if (n < want && !this.readClosed) this.readable = false;
      // Buffer.from(arrayBuffer, …) makes the view ~2x faster than subarray() does.
      this.rq.push(Buffer.from(slabAb, slabBase + off, n));
      return true;
    }
    this.readable = false;
    if (n === 0) this.eof = true;
    else if (n !== EAGAIN) this.failWith(errnoError(n, 'read', `connection with ${label(this.remote)}`));
    return false;
  }

  protected wantData(): void {
    // The next readable event reads for us and wakes the reader. Armed reads outlive a
    // reader that gives up (a timeout): at most one chunk then waits in `rq`.
    this.r.armRead(this.fd);
  }

  taken(): void {
    // Nothing to resume: the kernel's buffer is the only one.
  }

  bufferedReadBytes(): number {
    return this.rq.length;
  }

  // ---- write side -----------------------------------------------------------------

  send(bytes: Bytes): void {
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const len = b.length;
    if (len === 0) return;
    const r = this.r;
    if (this.pending === null && this.writable && r.queueWrite(this.token, this.fd, b, 0, len)) return;
    // Not queued (too large, or the queue was flushed to keep this stream's order): the
    // stream's queued bytes go first, then anything the kernel did not take of them.
    if (r.hasQueuedWrite(this.token)) r.flushWrites();
    if (this.error !== null) throw this.error;
    if (this.pending !== null) {
      // These wait behind (bounded: this write and at most 4 KiB queued before it).
      this.pending = Buffer.concat([this.pending, b]);
      return;
    }
    const n = r.write(this.fd, b, 0, len);
    if (n === b.length) return;
    if (n >= 0 || n === EAGAIN) {
      this.pending = n > 0 ? b.subarray(n) : b;
      this.writable = false;
      return;
    }
    this.failWith(errnoError(n, 'write', `connection with ${label(this.remote)}`));
    throw this.error;
  }

  sendAll(chunks: readonly Bytes[]): void {
    // One buffer, one system call (the chunks of a writeAll are usually small).
    const bufs = chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
    this.send(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs));
  }

  /** A queued write the kernel did not take whole (see SocketReactor.queueWrite). */
  onWritten(result: number, rest: Buffer | null): void {
    if (this.closedByUs) return;
    if (rest !== null) {
      this.pending = rest;
      this.writable = false;
      return;
    }
    this.failWith(errnoError(result, 'write', `connection with ${label(this.remote)}`));
  }

  private flushPending(): void {
    for (let b = this.pending; b !== null; b = this.pending) {
      const n = this.r.write(this.fd, b, 0, b.length);
      if (n === b.length) {
        this.pending = null;
        if (this.shutdownPending) this.sendShutdown();
        this.wakeFlushers();
        return;
      }
      if (n >= 0) {
        this.pending = b.subarray(n);
        continue;
      }
      if (n === EAGAIN) {
        this.writable = false;
        return;
      }
      this.pending = null;
      this.failWith(errnoError(n, 'write', `connection with ${label(this.remote)}`));
      return;
    }
  }

  flushed(): boolean {
    return this.pending === null;
  }

  requestFlushNotice(): void {
    // The next writable event flushes `pending` and wakes the flushers.
  }

  bufferedWriteBytes(): number {
    return this.pending === null ? 0 : this.pending.length;
  }

  beginShutdown(): void {
    if (this.r.hasQueuedWrite(this.token)) this.r.flushWrites();
    if (this.pending !== null) this.shutdownPending = true;
    else this.sendShutdown();
  }

  private sendShutdown(): void {
    this.shutdownPending = false;
    const rc = this.r.shutdown(this.fd);
    this.shutdownSent = true;
    if (rc < 0) this.failWith(errnoError(rc, 'shutdown', `connection with ${label(this.remote)}`));
  }

  shutdownDone(): boolean {
    return this.shutdownSent;
  }

  transportClosed(): boolean {
    return this.socketClosed;
  }

  // ---- lifecycle ------------------------------------------------------------------

  protected closeTransport(reset: boolean): void {
    // What write() returned for goes out before the end (its results no longer matter).
    if (!this.socketClosed && this.r.hasQueuedWrite(this.token)) this.r.flushWrites();
    this.pending = null;
    this.connectWaiter = null;
    if (this.socketClosed) return;
    // Messages about this stream name its peer: learn the address while the descriptor lives.
    if (this.remoteAddr === null) this.remoteAddr = this.address(true);
    this.socketClosed = true;
    // Unix domain streams have no reset: a plain close (the peer sees the end).
    if (this.fd >= 0) this.r.close(this.fd, reset && this.unixPath === undefined);
    this.r.unregister(this.token);
  }

  whenClosed(): Promise<void> {
    // close(2) released the descriptor synchronously.
    return Promise.resolve();
  }

  setNoDelay(noDelay: boolean): void {
    if (this.unixPath !== undefined || this.socketClosed) return;
    this.r.setOptions(this.fd, StreamFlags.setNoDelay | (noDelay ? StreamFlags.noDelay : 0), 0);
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    if (this.unixPath !== undefined || this.socketClosed) return;
    this.r.setOptions(this.fd, StreamFlags.setKeepAlive | (enable ? StreamFlags.keepAlive : 0), Math.ceil(initialDelayMs / 1000));
  }
}
