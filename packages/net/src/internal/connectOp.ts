/**
 * connect(): start a Node.js connection attempt when the operation runs, park until it
 * is established or fails, and wrap it into a StreamState owned by the running fiber.
 *
 * Invariant: the attempt's socket is either handed to exactly one StreamState or
 * destroyed — on error, timeout, abort and cancellation alike (`abandon`). Its 'error'
 * listener stays attached for its whole life, so a late error never becomes an
 * uncaught 'error' event.
 */
import type { Socket } from 'node:net';
import { InvalidArgumentError, waitReason } from '@rioco/core';
import type { SocketAddress } from '../SocketAddress.js';
import type { WaitOptions } from '../WaitOptions.js';
import { BlockingOp, NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter } from './Waiter.js';
import { mapNodeError } from './nodeErrors.js';
import { DEFAULT_READ_HWM } from './streamOps.js';
import { NodeStreamState } from './NodeStreamState.js';
import type { StreamState } from './StreamState.js';
import { checkBool, checkDelay, checkHost, checkIntRange, checkIp, checkPath, checkPort, describeValue, inet, label, unix } from './address.js';

const CONNECT = waitReason('net.connect');

export interface StreamConfig {
  hwm: number;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelay: number;
}

interface StreamOptionsLike {
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  readHighWaterMark?: number;
}

export function checkStreamOptions(o: unknown, what: string): StreamConfig {
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError(`${what}: options must be an object`);
  const s = o as StreamOptionsLike;
  const hwm = s.readHighWaterMark ?? DEFAULT_READ_HWM;
  if (typeof hwm !== 'number' || !Number.isInteger(hwm) || hwm < 1) {
    throw new InvalidArgumentError(`${what}: readHighWaterMark must be an integer >= 1, got ${describeValue(hwm)}`);
  }
  checkBool(s.noDelay, 'noDelay', what);
  checkBool(s.keepAlive, 'keepAlive', what);
  const delay = s.keepAliveInitialDelay ?? 0;
  checkDelay(delay, 'keepAliveInitialDelay', what);
  return { hwm, noDelay: s.noDelay === true, keepAlive: s.keepAlive === true, keepAliveInitialDelay: delay };
}

/**
 * Options given with a Unix socket `path` that only TCP has: `path` and `host`/`port`
 * are two different addresses, so giving both is a mistake, not a choice.
 */
export function tcpOptionsWithPath(o: object, what: string, keys: readonly string[]): void {
  const given = keys.filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  if (given.length === 0) return;
  const list = given.map((k) => `"${k}"`).join(' and ');
  throw new InvalidArgumentError(
    `${what}: got both "path" (a Unix socket) and ${list} (TCP only); give either a path or a host and port, not both`,
  );
}

const TCP_CONNECT_ONLY = ['host', 'port', 'localAddress', 'localPort', 'family'] as const;

/** Everything connect() checks before it creates a socket. */
export interface CheckedConnect {
  cfg: StreamConfig;
  /** The address in messages ("127.0.0.1:80", "unix:/tmp/s"). */
  target: string;
}

/** Check connect()'s options (InvalidArgumentError before anything happens) and name the target. */
export function checkConnectOptions(o: unknown): CheckedConnect {
  const cfg = checkStreamOptions(o, 'connect');
  const c = o as Opts & { localAddress?: unknown; localPort?: unknown; family?: unknown };
  if (c.path !== undefined) {
    tcpOptionsWithPath(c, 'connect', TCP_CONNECT_ONLY);
    return { cfg, target: `unix:${checkPath(c.path, 'connect')}` };
  }
  const host = checkHost(c.host, 'connect');
  const port = checkPort(c.port, 'connect', false);
  checkIp(c.localAddress, 'localAddress', 'connect');
  checkIntRange(c.localPort, 'localPort', 'connect', 0, 65535);
  if (c.family !== undefined && c.family !== 4 && c.family !== 6) {
    throw new InvalidArgumentError(`connect: family must be 4 or 6 (or left out for either), got ${describeValue(c.family)}`);
  }
  return { cfg, target: label(inet(host ?? 'localhost', port, host?.includes(':') ? 'IPv6' : 'IPv4')) };
}

/** Wrap a connected socket. `unixPath` is the path for Unix sockets (Node reports none). */
export function wrapSocket(socket: Socket, cfg: StreamConfig, unixPath: string | undefined, isServerSide: boolean): StreamState {
  let local: SocketAddress;
  let remote: SocketAddress;
  if (unixPath !== undefined) {
    // The connecting end of a Unix socket is unnamed.
    local = unix(isServerSide ? unixPath : '');
    remote = unix(isServerSide ? '' : unixPath);
  } else {
    local = inet(socket.localAddress, socket.localPort, socket.localFamily);
    remote = inet(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
  }
  return new NodeStreamState(socket, cfg.hwm, local, remote);
}

type Opts = WaitOptions & { host?: string; port?: number; path?: string };

export class ConnectOp<S> extends BlockingOp<S> {
  private readonly o: Opts;
  private readonly cfg: StreamConfig;
  private readonly start: (o: Opts) => Socket;
  private readonly make: (state: StreamState) => S;
  private socket: Socket | null = null;
  private w: Waiter | null = null;
  private connected = false;
  private failure: unknown = null;
  private readonly target: string;

  constructor(o: Opts, cfg: StreamConfig, target: string, start: (o: Opts) => Socket, make: (state: StreamState) => S) {
    super(o);
    this.target = target;
    this.o = o;
    this.cfg = cfg;
    this.start = start;
    this.make = make;
  }

  protected override reset(): void {
    this.socket = null;
    this.connected = false;
    this.failure = null;
  }

  protected attempt(): S | NotReady {
    let sock = this.socket;
    if (sock === null) {
      sock = this.socket = this.start(this.o);
      // Read nothing until a fiber asks (see StreamState); an eager read would also
      // defeat the read-side backpressure.
      sock.pause();
      sock.on('error', this.onError);
      sock.once('connect', this.onConnect);
      return NOT_READY;
    }
    if (this.failure !== null) {
      this.socket = null;
      sock.destroy();
      throw mapNodeError(this.failure, `connect to ${this.target}`);
    }
    if (!this.connected) return NOT_READY;
    sock.off('error', this.onError);
    this.socket = null;
    return this.make(wrapSocket(sock, this.cfg, this.o.path, false));
  }

  private readonly onConnect = (): void => {
    this.connected = true;
    this.w?.wake();
  };

  private readonly onError = (err: Error): void => {
    if (this.failure === null) this.failure = err;
    this.w?.wake();
  };

  protected override abandon(): void {
    const sock = this.socket;
    if (sock === null) return;
    this.socket = null;
    sock.off('connect', this.onConnect);
    sock.destroy();
  }

  protected waiter(): Waiter {
    return (this.w ??= new Waiter(CONNECT, this, () => this.what()));
  }

  protected what(): string {
    return `connect to ${this.target}`;
  }
}
