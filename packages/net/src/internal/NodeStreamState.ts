/**
 * The node:net driver of a Stream: one Node.js socket (TCP or Unix) under the shared
 * StreamState. Used where the native readiness path is not available (or with
 * RIOCO_NET_DRIVER=node).
 *
 * Read path:
 * - The socket starts paused and flows only on demand: it is resumed when a reader has
 *   to park (nothing buffered), and paused when bytes arrive while no reader is parked
 *   and `rq.length > hwm`. So a fiber that does not read holds at most
 *   `hwm + one chunk` here plus Node's own readable buffer (~16 KiB), the kernel's
 *   receive window fills, and the peer's writes block: end-to-end backpressure.
 * - 'data' only pushes into `rq` and wakes the reader; `fill()` has nothing to add
 *   synchronously.
 *
 * Write path: `socket.write` completes synchronously in the common case (the kernel took
 * the bytes, Node's writable buffer is empty: `flushed()`); otherwise the writer parks
 * until a zero-length marker write queued behind the data completes.
 *
 * `socketClosed` is set when Node reports 'close'.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { SocketAddress } from '../SocketAddress.js';
import { mapNodeError } from './nodeErrors.js';
import { label } from './address.js';
import { ownByCurrentFiber } from './ownership.js';
import { StreamState } from './StreamState.js';
import type { Bytes } from './streamOps.js';

const EMPTY = Buffer.alloc(0);

export class NodeStreamState extends StreamState {
  readonly socket: Socket;
  readonly hwm: number;
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  /** We paused the socket (or it was created paused and no reader asked yet). */
  private paused = true;
  socketClosed = false;
  readonly keepAlive = null;
  private markerPending = false;
  private closeWaiters: Array<() => void> | null = null;

  constructor(socket: Socket, hwm: number, local: SocketAddress, remote: SocketAddress) {
    super();
    this.socket = socket;
    this.hwm = hwm;
    this.local = local;
    this.remote = remote;
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
    this.failWith(mapNodeError(err, `connection with ${label(this.remote)}`));
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

  private readonly onFinished = (): void => {
    this.wakeFlushers();
  };

  private readonly onMarker = (): void => {
    this.markerPending = false;
    this.wakeFlushers();
  };

  // ---- read side ------------------------------------------------------------------

  fill(): boolean {
    return false;
  }

  protected wantData(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** A paused socket flows again once the buffer is half drained. */
  taken(): void {
    if (this.paused && this.rq.length <= this.hwm >>> 1 && !this.eof) {
      this.paused = false;
      this.socket.resume();
    }
  }

  bufferedReadBytes(): number {
    return this.rq.length + this.socket.readableLength;
  }

  // ---- write side -----------------------------------------------------------------

  send(bytes: Bytes): void {
    this.socket.write(bytes);
  }

  sendAll(chunks: readonly Bytes[]): void {
    const sock = this.socket;
    // Corked writes go to the kernel as one writev().
    sock.cork();
    for (const c of chunks) sock.write(c);
    sock.uncork();
  }

  flushed(): boolean {
    return this.socket.writableLength === 0;
  }

  /** Queue a marker whose completion means "everything before me reached the kernel". */
  requestFlushNotice(): void {
    if (this.markerPending) return;
    this.markerPending = true;
    this.socket.write(EMPTY, this.onMarker);
  }

  bufferedWriteBytes(): number {
    return this.socket.writableLength;
  }

  beginShutdown(): void {
    // 'finish' (FIN handed to the kernel after the queued bytes) wakes the waiter.
    this.socket.end(this.onFinished);
  }

  shutdownDone(): boolean {
    return this.socket.writableFinished;
  }

  transportClosed(): boolean {
    return this.socketClosed || this.socket.destroyed;
  }

  // ---- lifecycle ------------------------------------------------------------------

  protected closeTransport(reset: boolean): void {
    const sock = this.socket;
    // A Unix domain stream has no reset (resetAndDestroy throws ERR_INVALID_HANDLE_TYPE
    // on a pipe): it gets a plain close, as on the native driver.
    if (reset && this.local.family !== 'unix' && !sock.destroyed) {
      try {
        sock.resetAndDestroy();
        return;
      } catch {
        // Not a TCP handle after all: close it plainly below, never leave it open.
      }
    }
    sock.destroy();
  }

  whenClosed(): Promise<void> {
    if (this.socketClosed) return Promise.resolve();
    return new Promise((resolve) => (this.closeWaiters ??= []).push(resolve));
  }

  setNoDelay(noDelay: boolean): void {
    this.socket.setNoDelay(noDelay);
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    this.socket.setKeepAlive(enable, initialDelayMs);
  }
}
