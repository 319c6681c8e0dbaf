/**
 * listen() and accept() on the native readiness path.
 *
 * NativeListenOp: binds and listens synchronously (a host name is resolved first, with
 * node:dns); with no host it listens on `::` dual-stack, or `0.0.0.0` where IPv6 is
 * off, as Node does.
 *
 * NativeListenerState invariants:
 * - Connections wait in the kernel's backlog until a fiber accepts: nothing is
 *   accepted eagerly, so the backlog pushes back on clients the way the kernel does.
 * - `readable` is the listening socket's readiness hint (see NativeStreamState): set by
 *   its events, cleared when accept says EAGAIN. Wake-then-take with several acceptors
 *   as on node:net: an event wakes one parked acceptor, which accepts when it runs.
 * - Out of descriptors (EMFILE/ENFILE): the native side drops the queued connections
 *   (libuv's reserve-descriptor trick, so they do not spin the loop), the error is
 *   reported once to the next accept, and the listener keeps working: a later
 *   connection is accepted once descriptors are free.
 * - Every descriptor accepted is handed to exactly one NativeStreamState; the listening
 *   descriptor is closed once, by close() (and a Unix socket's path removed).
 */
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { rmSync } from 'node:fs';
import { Family, ListenFlags, Readiness, StreamFlags, waitReason, type ReadinessListener, type SocketReactor } from '@rioco/core';
import type { SocketAddress } from '../SocketAddress.js';
import type { NetError } from '../errors.js';
import { BlockingOp, NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter, wakeFirst } from './Waiter.js';
import { disown, ownByCurrentFiber, type Owned, type Registry } from './ownership.js';
import { inet, label, unix } from './address.js';
import type { StreamConfig } from './connectOp.js';
import { endAcceptors, type ListenerDriver } from './ListenerState.js';
import type { CheckedListen, ListenOpts } from './listenOp.js';
import type { StreamState } from './StreamState.js';
import { NativeStreamState } from './NativeStreamState.js';
import { EAFNOSUPPORT, EAGAIN, ECONNABORTED, errnoError } from './errno.js';
import { mapNodeError } from './nodeErrors.js';

const LISTEN = waitReason('net.listen');

interface PromiseAcceptor<S> {
  resolve(r: IteratorResult<S, undefined>): void;
}

/** accept() options of a stream config. */
export function streamFlags(cfg: StreamConfig, unixSocket: boolean): number {
  if (unixSocket) return 0;
  return (cfg.noDelay ? StreamFlags.noDelay : 0) | (cfg.keepAlive ? StreamFlags.keepAlive : 0);
}

export class NativeListenerState<S> implements Owned, ListenerDriver<S>, ReadinessListener {
  owner: Registry | null = null;
  ownerFiber = 0;
  readonly r: SocketReactor;
  readonly keepAlive: SocketReactor;
  fd = -1;
  readonly token: number;
  address: SocketAddress = unix('');
  private readonly cfg: StreamConfig;
  private readonly unixPath: string | undefined;
  private readonly make: (state: StreamState) => S;
  private readable = true;
  pendingError: NetError | null = null;
  acceptors: Waiter[] = [];
  private promiseAcceptors: PromiseAcceptor<S>[] = [];
  closedByUs = false;

  /** Register with the reactor; `open(fd)` follows once the socket listens. */
  constructor(r: SocketReactor, cfg: StreamConfig, unixPath: string | undefined, make: (state: StreamState) => S) {
    this.r = r;
    this.keepAlive = r;
    this.token = r.register(this);
    this.cfg = cfg;
    this.unixPath = unixPath;
    this.make = make;
  }

  open(fd: number, address: SocketAddress): void {
    this.fd = fd;
    this.address = address;
    ownByCurrentFiber(this);
  }

  /** The socket never came to be: give the token back. */
  discard(): void {
    this.closedByUs = true;
    this.r.unregister(this.token);
  }

  onReadiness(bits: number): void {
    if (!(bits & Readiness.readable) || this.closedByUs) return;
    this.readable = true;
    while (this.promiseAcceptors.length > 0) {
      const s = this.take();
      if (s === undefined) break;
      (this.promiseAcceptors.shift() as PromiseAcceptor<S>).resolve({ done: false, value: s });
      if (this.promiseAcceptors.length === 0) this.r.release();
    }
    if (this.readable || this.pendingError !== null) this.wakeOne();
  }

  wakeOne(): void {
    wakeFirst(this.acceptors);
  }

  mayHavePending(): boolean {
    return this.readable;
  }

  take(): S | undefined {
    const cfg = this.cfg;
    const unixSocket = this.unixPath !== undefined;
    while (this.readable && !this.closedByUs) {
      const st = new NativeStreamState(this.r, null, this.unixPath, true);
      const fd = this.r.accept(this.fd, st.token, streamFlags(cfg, unixSocket), Math.ceil(cfg.keepAliveInitialDelay / 1000));
      if (fd >= 0) {
        st.open(fd, false);
        return this.make(st);
      }
      st.discard();
      if (fd === ECONNABORTED) continue; // the client gave up before we got to it
      this.readable = false;
      if (fd !== EAGAIN) this.pendingError = errnoError(fd, 'accept', `accept on ${label(this.address)}`);
      return undefined;
    }
    return undefined;
  }

  nextPromise(): Promise<IteratorResult<S, undefined>> {
    if (this.closedByUs) return Promise.resolve({ done: true, value: undefined });
    const s = this.take();
    if (s !== undefined) return Promise.resolve({ done: false, value: s });
    // As on node:net, an iteration skips a failed accept (out of descriptors).
    this.pendingError = null;
    return new Promise((resolve) => {
      if (this.promiseAcceptors.push({ resolve }) === 1) this.r.hold();
    });
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    disown(this);
    this.r.close(this.fd, false);
    this.r.unregister(this.token);
    if (this.unixPath !== undefined) rmSync(this.unixPath, { force: true });
    const ws = this.acceptors;
    const pas = this.promiseAcceptors;
    this.acceptors = [];
    this.promiseAcceptors = [];
    if (pas.length > 0) this.r.release();
    endAcceptors(this.address, ws, pas);
  }

  closeByOwner(): void {
    this.close();
  }

  adopt(): void {
    if (!this.closedByUs) ownByCurrentFiber(this);
  }
}

export class NativeListenOp<S, L> extends BlockingOp<L> {
  private readonly r: SocketReactor;
  private readonly o: ListenOpts;
  private readonly cfg: StreamConfig;
  private readonly target: string;
  private readonly makeStream: (state: StreamState) => S;
  private readonly makeListener: (state: NativeListenerState<S>) => L;
  private w: Waiter | null = null;
  /** Name resolution: 0 not started, 1 pending, 2 done. */
  private lookupState = 0;
  private resolved: { address: string; family: number } | null = null;
  private failure: unknown = null;
  private run = 0;

  constructor(
    r: SocketReactor,
    { o, cfg, target }: CheckedListen,
    makeStream: (state: StreamState) => S,
    makeListener: (state: unknown) => L,
  ) {
    super(o);
    this.r = r;
    this.o = o;
    this.cfg = cfg;
    this.target = target;
    this.makeStream = makeStream;
    this.makeListener = makeListener;
  }

  protected override reset(): void {
    this.lookupState = 0;
    this.resolved = null;
    this.failure = null;
    this.run++;
  }

  protected attempt(): L | NotReady {
    const o = this.o;
    if (o.path !== undefined) return this.listenOn(Family.unix, o.path, 0);
    const port = o.port ?? 0;
    const host = o.host;
    if (host === undefined) return this.listenOn(Family.ipv6, '::', port);
    const fam = isIP(host);
    if (fam !== 0) return this.listenOn(fam, host, port);
    if (this.lookupState === 0) {
      this.lookupState = 1;
      const run = this.run;
      lookup(host, (err, address, family) => {
        if (run !== this.run) return; // a newer run (or an abandoned one) owns the op now
        this.lookupState = 2;
        if (err) this.failure = err;
        else this.resolved = { address, family };
        this.w?.wake();
      });
      return NOT_READY;
    }
    if (this.lookupState === 1) return NOT_READY;
    if (this.failure !== null) throw mapNodeError(this.failure, `listen on ${this.target}`);
    const a = this.resolved as { address: string; family: number };
    return this.listenOn(a.family, a.address, port);
  }

  private listenOn(family: number, address: string, port: number): L {
    const o = this.o;
    const flags =
      (o.reusePort === true ? ListenFlags.reusePort : 0) |
      (o.ipv6Only === true ? ListenFlags.v6Only : 0) |
      (o.readableAll === true ? ListenFlags.readableAll : 0) |
      (o.writableAll === true ? ListenFlags.writableAll : 0);
    const backlog = o.backlog ?? 511;
    const st = new NativeListenerState<S>(this.r, this.cfg, o.path, this.makeStream);
    let fd = this.r.listen(family, address, port, backlog, flags, st.token);
    if (fd === EAFNOSUPPORT && o.host === undefined && family === Family.ipv6) {
      // No IPv6 on this system: every IPv4 interface, as Node does.
      family = Family.ipv4;
      address = '0.0.0.0';
      fd = this.r.listen(family, address, port, backlog, flags, st.token);
    }
    if (fd < 0) {
      st.discard();
      throw errnoError(fd, 'listen', `listen on ${this.target}`);
    }
    let where: SocketAddress;
    if (family === Family.unix) where = unix(address);
    else {
      const a = this.r.address(fd, false);
      where = typeof a === 'number' ? inet(address, port, family === Family.ipv6 ? 'IPv6' : 'IPv4') : inet(a.address, a.port, a.family);
    }
    st.open(fd, where);
    return this.makeListener(st);
  }

  protected override abandon(): void {
    this.run++; // a lookup still in flight is ignored
  }

  protected waiter(): Waiter {
    return (this.w ??= new Waiter(LISTEN, this, () => this.what()));
  }

  protected what(): string {
    return `listen on ${this.target}`;
  }
}
