/**
 * The driver behind a Listener: a Node.js server whose accepted sockets queue here until
 * a fiber `accept()`s them.
 *
 * Invariants:
 * - Node accepts eagerly (libuv has no "stop accepting" switch), so connections that
 *   nobody accepted yet wait in `pending`, created paused (`pauseOnConnect`): they read
 *   nothing, and the kernel's window pushes back on their peers.
 * - Wake-then-take with several acceptors: an arriving connection wakes one parked
 *   acceptor; the connection stays in `pending` until that fiber's `attempt()` takes it.
 *   An acceptor that ends without taking (cancelled after its wake-up) passes the
 *   wake-up on (`AcceptOp.abandon`), so no connection waits while an acceptor sleeps.
 * - Server errors after listening (EMFILE/ENFILE from accept) do not stop the server
 *   (libuv keeps accepting); the latest one is delivered once, to the next accept.
 * - Every socket ever accepted by Node is either handed to exactly one Stream or
 *   destroyed by `close()`.
 */
import type { Server, Socket } from 'node:net';
import { waitReason } from '@rioco/core';
import type { SocketAddress } from '../SocketAddress.js';
import type { WaitOptions } from '../WaitOptions.js';
import { SocketClosedError, type NetError } from '../errors.js';
import { BlockingOp, NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter, wakeFirst } from './Waiter.js';
import { mapNodeError } from './nodeErrors.js';
import { disown, ownByCurrentFiber, type Owned, type Registry } from './ownership.js';
import { label } from './address.js';
import { wrapSocket, type StreamConfig } from './connectOp.js';
import type { StreamState } from './StreamState.js';

const ACCEPT = waitReason('net.listener.accept');

/**
 * What AcceptOp needs of a listener driver (node:net here, native in NativeListenerState).
 * Wake-then-take: `take()` hands out a connection only to a running fiber; an
 * acceptor that ends without taking passes its wake-up on when `mayHavePending()`.
 */
export interface AcceptSource<S> {
  readonly closedByUs: boolean;
  readonly address: SocketAddress;
  pendingError: NetError | null;
  acceptors: Waiter[];
  take(): S | undefined;
  mayHavePending(): boolean;
  wakeOne(): void;
  /** Set on the acceptors' waiters (the native driver keeps the event loop alive). */
  readonly keepAlive: { hold(): void; release(): void } | null;
}

/** What the public Listener needs of a driver. */
export interface ListenerDriver<S> extends AcceptSource<S> {
  adopt(): void;
  close(): void;
  /** Outside fibers (async iteration). */
  nextPromise(): Promise<IteratorResult<S, undefined>>;
}

const ignore = (): void => {};

interface PromiseAcceptor<S> {
  resolve(r: IteratorResult<S, undefined>): void;
  reject(e: unknown): void;
}

/** A listener closed: fail the fibers parked in accept(), end the waiting async iterators. */
export function endAcceptors<S>(
  address: SocketAddress,
  acceptors: readonly Waiter[],
  iterators: readonly Pick<PromiseAcceptor<S>, 'resolve'>[],
): void {
  const err = new SocketClosedError(`the listener on ${label(address)} was closed while a fiber waited in accept()`);
  for (const w of acceptors) w.fail(err);
  for (const pa of iterators) pa.resolve({ done: true, value: undefined });
}

export class ListenerState<S> implements Owned, ListenerDriver<S> {
  owner: Registry | null = null;
  ownerFiber = 0;
  readonly server: Server;
  readonly cfg: StreamConfig;
  readonly unixPath: string | undefined;
  readonly address: SocketAddress;
  readonly make: (state: StreamState) => S;
  private pending: Socket[] = [];
  pendingError: NetError | null = null;
  acceptors: Waiter[] = [];
  private promiseAcceptors: PromiseAcceptor<S>[] = [];
  closedByUs = false;
  readonly keepAlive = null;

  constructor(server: Server, cfg: StreamConfig, unixPath: string | undefined, address: SocketAddress, make: (state: StreamState) => S) {
    this.server = server;
    this.cfg = cfg;
    this.unixPath = unixPath;
    this.address = address;
    this.make = make;
    server.on('connection', this.onConnection);
    server.on('error', this.onError);
    ownByCurrentFiber(this);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  mayHavePending(): boolean {
    return this.pending.length > 0;
  }

  private readonly onConnection = (socket: Socket): void => {
    // Until a Stream owns it, an error on the socket is kept in `socket.errored`.
    socket.on('error', ignore);
    if (this.closedByUs) {
      socket.destroy();
      return;
    }
    const pa = this.promiseAcceptors.shift();
    if (pa !== undefined) {
      pa.resolve({ done: false, value: this.wrap(socket) });
      return;
    }
    this.pending.push(socket);
    this.wakeOne();
  };

  private readonly onError = (err: Error): void => {
    const e = mapNodeError(err, `accept on ${label(this.address)}`);
    if (this.promiseAcceptors.length > 0 && e.code !== 'TOO_MANY_OPEN_FILES') {
      (this.promiseAcceptors.shift() as PromiseAcceptor<S>).reject(e);
      return;
    }
    this.pendingError = e;
    this.wakeOne();
  };

  wakeOne(): void {
    wakeFirst(this.acceptors);
  }

  take(): S | undefined {
    const sock = this.pending.shift();
    return sock === undefined ? undefined : this.wrap(sock);
  }

  private wrap(sock: Socket): S {
    return this.make(wrapSocket(sock, this.cfg, this.unixPath, true));
  }

  /** Outside fibers (async iteration). */
  nextPromise(): Promise<IteratorResult<S, undefined>> {
    if (this.closedByUs) return Promise.resolve({ done: true, value: undefined });
    const s = this.take();
    if (s !== undefined) return Promise.resolve({ done: false, value: s });
    return new Promise((resolve, reject) => this.promiseAcceptors.push({ resolve, reject }));
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    disown(this);
    this.server.close();
    const p = this.pending;
    this.pending = [];
    for (const s of p) s.destroy();
    const ws = this.acceptors;
    const pas = this.promiseAcceptors;
    this.acceptors = [];
    this.promiseAcceptors = [];
    endAcceptors(this.address, ws, pas);
  }

  closeByOwner(): void {
    this.close();
  }

  adopt(): void {
    if (!this.closedByUs) ownByCurrentFiber(this);
  }
}

export class AcceptOp<S> extends BlockingOp<S> {
  private readonly l: AcceptSource<S>;
  private w: Waiter | null = null;
  constructor(l: AcceptSource<S>, options: WaitOptions | undefined) {
    super(options);
    this.l = l;
  }
  protected attempt(): S | NotReady {
    const l = this.l;
    if (l.closedByUs) throw new SocketClosedError(`the listener on ${label(l.address)} is closed`);
    let e = l.pendingError;
    if (e === null) {
      const s = l.take();
      if (s !== undefined) return s;
      e = l.pendingError; // take() itself may have hit EMFILE
      if (e === null) return NOT_READY;
    }
    l.pendingError = null;
    throw e;
  }
  protected override abandon(): void {
    const l = this.l;
    if (!l.closedByUs && (l.mayHavePending() || l.pendingError !== null)) l.wakeOne();
  }
  protected waiter(): Waiter {
    const l = this.l;
    let w = this.w;
    if (w === null) {
      const made = (w = this.w = new Waiter(ACCEPT, l, () => this.what()));
      made.keepAlive = l.keepAlive;
      made.onLeave = () => {
        const i = l.acceptors.indexOf(made);
        if (i >= 0) l.acceptors.splice(i, 1);
      };
    }
    l.acceptors.push(w);
    return w;
  }
  protected what(): string {
    return `accept on ${label(this.l.address)}`;
  }
}
