/**
 * listen(): validate the options, then run on the native readiness path when it is
 * available (NativeListenOp) or on node:net (ListenOp).
 *
 * ListenOp: create a Node.js server when the operation runs, park until it listens or
 * fails (EADDRINUSE, EACCES), and wrap it into a ListenerState owned by the running
 * fiber. Invariant: the server is either handed to exactly one ListenerState or closed,
 * on every path (error, timeout, abort, cancellation).
 */
import { createServer, type Server } from 'node:net';
import { InvalidArgumentError, waitReason } from '@rioco/core';
import { UnsupportedError } from '../errors.js';
import { BlockingOp, NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter } from './Waiter.js';
import { mapNodeError } from './nodeErrors.js';
import { checkBool, checkHost, checkIntRange, checkPath, checkPort, inet, unix } from './address.js';
import { checkStreamOptions, tcpOptionsWithPath, type StreamConfig } from './connectOp.js';
import { ListenerState } from './ListenerState.js';
import type { StreamState } from './StreamState.js';
import type { WaitOptions } from '../WaitOptions.js';
import { nativeReactor } from './driver.js';
import { NativeListenOp } from './nativeListen.js';

const LISTEN = waitReason('net.listen');

export interface ListenOpts extends WaitOptions {
  host?: string;
  port?: number;
  path?: string;
  backlog?: number;
  reusePort?: boolean;
  ipv6Only?: boolean;
  readableAll?: boolean;
  writableAll?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  readHighWaterMark?: number;
}

/** SO_REUSEPORT through `server.listen({ reusePort })` arrived in Node.js 22.12 / 23.1. */
export function reusePortSupported(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The options, checked; `target` names the address in messages. */
export interface CheckedListen {
  o: ListenOpts;
  cfg: StreamConfig;
  target: string;
}

/** Largest `backlog` (the kernel takes an int, and caps it at its own maximum anyway). */
const MAX_BACKLOG = 2 ** 31 - 1;

function checkListenOptions(o: ListenOpts, native: boolean): CheckedListen {
  const cfg = checkStreamOptions(o, 'listen');
  let target: string;
  if (o.path !== undefined) {
    if (o.reusePort === true) throw new InvalidArgumentError('listen: reusePort applies to TCP only, not to a Unix socket path');
    tcpOptionsWithPath(o, 'listen', TCP_LISTEN_ONLY);
    target = `unix:${checkPath(o.path, 'listen')}`;
  } else {
    const host = checkHost(o.host, 'listen');
    const port = checkPort(o.port ?? 0, 'listen', true);
    target = `${host ?? '(all interfaces)'}:${port}`;
  }
  checkIntRange(o.backlog, 'backlog', 'listen', 0, MAX_BACKLOG);
  checkBool(o.reusePort, 'reusePort', 'listen');
  checkBool(o.ipv6Only, 'ipv6Only', 'listen');
  checkBool(o.readableAll, 'readableAll', 'listen');
  checkBool(o.writableAll, 'writableAll', 'listen');
  if (o.reusePort === true && !native && !reusePortSupported()) {
    throw new UnsupportedError(
      `listen: reusePort needs Node.js >= 22.12 on the node:net driver (this is ${process.versions.node}); run one listener, or several processes behind node:cluster`,
    );
  }
  return { o, cfg, target };
}

const TCP_LISTEN_ONLY = ['host', 'port', 'ipv6Only'] as const;

/** listen() on the driver this thread uses. */
export function listenOp<S, L>(
  o: ListenOpts,
  makeStream: (state: StreamState) => S,
  makeListener: (state: unknown) => L,
): BlockingOp<L> {
  const r = nativeReactor();
  const checked = checkListenOptions(o, r !== null);
  return r !== null ? new NativeListenOp(r, checked, makeStream, makeListener) : new ListenOp(checked, makeStream, makeListener);
}

export class ListenOp<S, L> extends BlockingOp<L> {
  private readonly o: ListenOpts;
  private readonly cfg: StreamConfig;
  private readonly makeStream: (state: StreamState) => S;
  private readonly makeListener: (state: ListenerState<S>) => L;
  private server: Server | null = null;
  private w: Waiter | null = null;
  private listening = false;
  private failure: unknown = null;
  private readonly target: string;

  constructor({ o, cfg, target }: CheckedListen, makeStream: (state: StreamState) => S, makeListener: (state: ListenerState<S>) => L) {
    super(o);
    this.target = target;
    this.o = o;
    this.cfg = cfg;
    this.makeStream = makeStream;
    this.makeListener = makeListener;
  }

  protected override reset(): void {
    this.server = null;
    this.listening = false;
    this.failure = null;
  }

  protected attempt(): L | NotReady {
    let server = this.server;
    if (server === null) {
      const o = this.o;
      const cfg = this.cfg;
      server = this.server = createServer({
        allowHalfOpen: true,
        pauseOnConnect: true,
        noDelay: cfg.noDelay,
        keepAlive: cfg.keepAlive,
        keepAliveInitialDelay: cfg.keepAliveInitialDelay,
      });
      server.on('error', this.onError);
      server.once('listening', this.onListening);
      const opts: Record<string, unknown> =
        o.path !== undefined
          ? { path: o.path, backlog: o.backlog, readableAll: o.readableAll, writableAll: o.writableAll }
          : { host: o.host, port: o.port ?? 0, backlog: o.backlog, ipv6Only: o.ipv6Only };
      if (o.reusePort === true) opts.reusePort = true;
      server.listen(opts);
      return NOT_READY;
    }
    if (this.failure !== null) {
      this.server = null;
      server.close();
      throw mapNodeError(this.failure, `listen on ${this.target}`);
    }
    if (!this.listening) return NOT_READY;
    server.off('error', this.onError);
    this.server = null;
    const o = this.o;
    let address;
    if (o.path !== undefined) address = unix(o.path);
    else {
      const a = server.address();
      address = a !== null && typeof a === 'object' ? inet(a.address, a.port, a.family) : inet(o.host, o.port, undefined);
    }
    return this.makeListener(new ListenerState(server, this.cfg, o.path, address, this.makeStream));
  }

  private readonly onListening = (): void => {
    this.listening = true;
    this.w?.wake();
  };

  private readonly onError = (err: Error): void => {
    if (this.failure === null) this.failure = err;
    this.w?.wake();
  };

  protected override abandon(): void {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    server.off('listening', this.onListening);
    server.close();
  }

  protected waiter(): Waiter {
    return (this.w ??= new Waiter(LISTEN, this, () => this.what()));
  }

  protected what(): string {
    return `listen on ${this.target}`;
  }
}
