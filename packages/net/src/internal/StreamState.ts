/**
 * What every Stream driver shares: the receive buffer, the one reader slot, the
 * writers waiting for the kernel, the lifecycle flags and ownership. Two drivers extend
 * it: NodeStreamState (a node:net socket) and NativeStreamState (a descriptor on the
 * native readiness path, see @rioco/core's SocketReactor). The operations in
 * streamOps.ts are written once against this class.
 *
 * Read path invariants (both drivers):
 * - Bytes are taken from `rq` only by an operation's `attempt()` while its fiber runs
 *   (wake-then-take, see Waiter), so a cancelled read loses nothing: what a driver
 *   moved into `rq` stays there for the next read.
 * - `fill()` moves bytes into `rq` synchronously when the driver can (the native one
 *   reads the socket), so operations try it before they park.
 * - Delivery order: buffered bytes first, then the end (`eof`) or the error.
 *
 * Write path invariants:
 * - `write()` returns only when the kernel took every byte, or (native driver, up to
 *   4 KiB) a copy waits in the thread's write queue, which goes to the kernel before
 *   the thread next waits for I/O: `send()` hands bytes to the driver, `flushed()` says
 *   whether any are still waiting for the kernel's room, and the writer parks in
 *   `flushers` until the driver calls `wakeFlushers()`. So user-space buffering is
 *   bounded by one write per writer (plus the 4 KiB a stream may have queued), and
 *   `close()` after `write()` loses nothing: a close or shutdown flushes the queue first.
 *   An error the kernel gives for queued bytes fails the stream: the next operation
 *   throws it.
 * - A write cancelled while parked has queued its bytes: they are still sent (unless
 *   the stream is closed first); the next write first waits for them to drain.
 *
 * Lifecycle: open → (eof and/or writeEnded) → closed. `closedByUs` is set by close()
 * or reset() (or the owning fiber's end). Every parked fiber is woken or failed on
 * every transition, never left parked.
 */
import { waitReason } from '@rioco/core';
import type { SocketAddress } from '../SocketAddress.js';
import { NetError, ReadInProgressError, SocketClosedError } from '../errors.js';
import { ByteQueue } from './ByteQueue.js';
import { NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter } from './Waiter.js';
import { disown, ownByCurrentFiber, type Owned, type Registry } from './ownership.js';
import { label } from './address.js';
import { ReadOp, type Bytes } from './streamOps.js';

const READ = waitReason('net.stream.read');

export abstract class StreamState implements Owned {
  owner: Registry | null = null;
  ownerFiber = 0;
  readonly rq = new ByteQueue();
  eof = false;
  error: NetError | null = null;
  closedByUs = false;
  writeEnded = false;
  readonly reader: Waiter;
  flushers: Waiter[] = [];
  /** Reused by every `read()` without options (one reader at a time). */
  readonly readOp: ReadOp;

  constructor() {
    this.reader = new Waiter(READ, this, () => `read from ${label(this.remote)}`);
    this.readOp = new ReadOp(this, undefined);
  }

  abstract get local(): SocketAddress;
  abstract get remote(): SocketAddress;
  /**
   * Held by every fiber parked on this stream (the native reactor: nothing else keeps the
   * event loop alive while a fiber waits on such a socket); null on node:net, whose own
   * handles do.
   */
  abstract readonly keepAlive: { hold(): void; release(): void } | null;

  // ---- driver: read side ----------------------------------------------------------

  /** Move more bytes into `rq` now if the transport has them; true if it did. */
  abstract fill(): boolean;
  /** Let the transport deliver more (a reader is about to park). */
  protected abstract wantData(): void;
  /** After bytes were taken from `rq`. */
  abstract taken(): void;
  /** Bytes received and not read yet (ours plus the transport's). */
  abstract bufferedReadBytes(): number;

  // ---- driver: write side ---------------------------------------------------------

  /** Hand bytes to the transport (may throw the stream's error). */
  abstract send(bytes: Bytes): void;
  /** Hand several chunks to the transport, in order, in as few system calls as it can. */
  abstract sendAll(chunks: readonly Bytes[]): void;
  /** Whether the kernel has taken everything sent so far. */
  abstract flushed(): boolean;
  /** A writer parks until flushed: make sure `wakeFlushers()` will be called. */
  abstract requestFlushNotice(): void;
  /** Bytes sent but not taken by the kernel yet. */
  abstract bufferedWriteBytes(): number;
  /** Send the end of stream after what was sent; `shutdownDone()` once it went out. */
  abstract beginShutdown(): void;
  abstract shutdownDone(): boolean;
  /** The transport is gone (closed by the peer's reset or by Node), whatever we did. */
  abstract transportClosed(): boolean;

  // ---- driver: lifecycle -----------------------------------------------------------

  /** Release the transport (`reset`: abortively, where the transport can: TCP). Called once; must not throw. */
  protected abstract closeTransport(reset: boolean): void;
  /** Resolves once the transport is released. */
  abstract whenClosed(): Promise<void>;
  abstract setNoDelay(noDelay: boolean): void;
  abstract setKeepAlive(enable: boolean, initialDelayMs: number): void;

  // ---- shared --------------------------------------------------------------------

  /** Nothing buffered: the end, the error, or park (the caller parks on `reader`). */
  noData(): null | NotReady {
    if (this.eof) return null;
    this.checkReadable();
    if (this.transportClosed()) return null;
    if (this.reader.resume !== null) {
      throw new ReadInProgressError(`another fiber is already reading from ${label(this.remote)}; a stream has one reader at a time`);
    }
    this.wantData();
    return NOT_READY;
  }

  checkReadable(): void {
    if (this.closedByUs) throw new SocketClosedError(`the stream to ${label(this.remote)} is closed`);
    if (this.error !== null) throw this.error;
  }

  checkWritable(): void {
    if (this.closedByUs) throw new SocketClosedError(`the stream to ${label(this.remote)} is closed`);
    if (this.error !== null) throw this.error;
    if (this.writeEnded) throw new SocketClosedError(`the write side of the stream to ${label(this.remote)} was shut down`);
    if (this.transportClosed()) throw new SocketClosedError(`the connection with ${label(this.remote)} is closed`);
  }

  /** The transport failed: keep the first error, wake everyone to see it. */
  protected failWith(err: NetError): void {
    if (this.error === null) this.error = err;
    this.reader.wake();
    this.wakeFlushers();
  }

  wakeFlushers(): void {
    const ws = this.flushers;
    if (ws.length === 0) return;
    this.flushers = [];
    for (const w of ws) w.wake();
  }

  close(): void {
    this.shut(false);
  }

  reset(): void {
    this.shut(true);
  }

  private shut(reset: boolean): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    disown(this);
    this.rq.clear();
    try {
      this.closeTransport(reset);
    } finally {
      // Whatever the transport did, no fiber stays parked on a stream marked closed.
      const err = new SocketClosedError(`the stream to ${label(this.remote)} was closed while a fiber waited on it`);
      this.reader.fail(err);
      const ws = this.flushers;
      this.flushers = [];
      for (const w of ws) w.fail(err);
    }
  }

  closeByOwner(): void {
    this.close();
  }

  adopt(): void {
    if (this.closedByUs) return;
    ownByCurrentFiber(this);
  }
}

