/**
 * The driver behind a UdpSocket: a node:dgram socket, a bounded queue of received
 * datagrams and one receiver slot.
 *
 * Invariants:
 * - Datagrams are queued in arrival order; at most `maxQueued` wait for a receiver.
 *   Past that, new ones are dropped and counted (UDP's own rule when a receive buffer
 *   is full: dgram cannot pause reading the way a TCP socket can).
 * - Wake-then-take as for streams: a cancelled recv() leaves the datagram queued.
 * - A send waits for dgram's callback (the datagram went to the kernel, or the send
 *   failed); a send cancelled while parked may still go out.
 * - Errors the socket reports asynchronously ('error' events) fail the parked receiver
 *   once, else the next recv(); they do not close the socket.
 */
import type { Socket as DgramSocket, RemoteInfo } from 'node:dgram';
import { InvalidArgumentError, waitReason } from '@rioco/core';
import type { InetAddress } from '../SocketAddress.js';
import type { WaitOptions } from '../WaitOptions.js';
import type { Datagram } from '../UdpSocket.js';
import { ReadInProgressError, SocketClosedError, type NetError } from '../errors.js';
import { BlockingOp, NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter } from './Waiter.js';
import { mapNodeError } from './nodeErrors.js';
import { disown, ownByCurrentFiber, type Owned, type Registry } from './ownership.js';
import { checkBool, checkIntRange, checkPort, checkString, inet, label } from './address.js';
import { checkBytes } from './streamOps.js';

const RECV = waitReason('net.udp.recv');
const SEND = waitReason('net.udp.send');
const BIND = waitReason('net.udp.bind');
/** Largest SO_RCVBUF / SO_SNDBUF request (the kernel takes an int, and caps it itself). */
const MAX_BUFFER_SIZE = 2 ** 31 - 1;

export class UdpState implements Owned {
  owner: Registry | null = null;
  ownerFiber = 0;
  readonly socket: DgramSocket;
  local: InetAddress;
  private queue: Datagram[] = [];
  private head = 0;
  readonly maxQueued: number;
  dropped = 0;
  error: NetError | null = null;
  closedByUs = false;
  readonly receiver: Waiter;

  constructor(socket: DgramSocket, maxQueued: number) {
    this.socket = socket;
    this.maxQueued = maxQueued;
    const a = socket.address();
    this.local = inet(a.address, a.port, a.family);
    this.receiver = new Waiter(RECV, this, () => `recv on ${label(this.local)}`);
    socket.on('message', this.onMessage);
    socket.on('error', this.onError);
    ownByCurrentFiber(this);
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  private readonly onMessage = (bytes: Buffer, rinfo: RemoteInfo): void => {
    if (this.queued >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push({ bytes, from: inet(rinfo.address, rinfo.port, rinfo.family) });
    this.receiver.wake();
  };

  private readonly onError = (err: Error): void => {
    this.error = mapNodeError(err, `udp socket ${label(this.local)}`);
    this.receiver.wake();
  };

  shift(): Datagram | undefined {
    if (this.head === this.queue.length) return undefined;
    const d = this.queue[this.head];
    this.queue[this.head++] = undefined as unknown as Datagram;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return d;
  }

  checkOpen(): void {
    if (this.closedByUs) throw new SocketClosedError(`the udp socket ${label(this.local)} is closed`);
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    disown(this);
    this.queue = [];
    this.head = 0;
    try {
      this.socket.close();
    } catch {
      // Already closed by Node (after an error): nothing left to release.
    }
    this.receiver.fail(new SocketClosedError(`the udp socket ${label(this.local)} was closed while a fiber waited in recv()`));
  }

  closeByOwner(): void {
    this.close();
  }

  adopt(): void {
    ownByCurrentFiber(this);
  }
}

export class RecvOp extends BlockingOp<Datagram> {
  private readonly u: UdpState;
  constructor(u: UdpState, options: WaitOptions | undefined) {
    super(options);
    this.u = u;
  }
  protected attempt(): Datagram | NotReady {
    const u = this.u;
    u.checkOpen();
    const d = u.shift();
    if (d !== undefined) return d;
    const e = u.error;
    if (e !== null) {
      u.error = null;
      throw e;
    }
    if (u.receiver.parked) {
      throw new ReadInProgressError(`another fiber is already receiving on ${label(u.local)}; a socket has one receiver at a time`);
    }
    return NOT_READY;
  }
  protected waiter(): Waiter {
    return this.u.receiver;
  }
  protected what(): string {
    return `recv on ${label(this.u.local)}`;
  }
}

export class SendOp extends BlockingOp<void> {
  private readonly u: UdpState;
  private readonly bytes: Uint8Array | string;
  private readonly port: number;
  private readonly address: string;
  private w: Waiter | null = null;
  private started = false;
  private done = false;
  private failure: unknown = null;

  constructor(u: UdpState, to: { address: string; port: number }, bytes: Uint8Array | string, options: WaitOptions | undefined) {
    if (to === null || typeof to !== 'object') throw new InvalidArgumentError('send: `to` must be { address, port }');
    if (typeof to.address !== 'string' || to.address === '') throw new InvalidArgumentError('send: `to.address` must be a non-empty string');
    const port = checkPort(to.port, 'send', false);
    checkBytes(bytes, 'send');
    super(options);
    this.u = u;
    this.bytes = bytes;
    this.port = port;
    this.address = to.address;
  }

  protected override reset(): void {
    this.started = this.done = false;
    this.failure = null;
  }

  protected attempt(): void | NotReady {
    const u = this.u;
    if (!this.started) {
      u.checkOpen();
      this.started = true;
      u.socket.send(this.bytes, this.port, this.address, this.onSent);
      return NOT_READY;
    }
    if (this.failure !== null) throw mapNodeError(this.failure, this.what());
    if (this.done) return;
    u.checkOpen();
    return NOT_READY;
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) this.failure = err;
    this.done = true;
    this.w?.wake();
  };

  protected waiter(): Waiter {
    return (this.w ??= new Waiter(SEND, this.u, () => this.what()));
  }

  protected what(): string {
    return `send to ${this.address}:${this.port}`;
  }
}

export interface BindOpts extends WaitOptions {
  type?: 'udp4' | 'udp6';
  host?: string;
  port?: number;
  reuseAddr?: boolean;
  ipv6Only?: boolean;
  broadcast?: boolean;
  multicastTtl?: number;
  multicastLoopback?: boolean;
  multicastInterface?: string;
  maxQueued?: number;
  recvBufferSize?: number;
  sendBufferSize?: number;
}

export class BindOp<U> extends BlockingOp<U> {
  private readonly o: BindOpts;
  private readonly create: (o: BindOpts) => DgramSocket;
  private readonly make: (state: UdpState) => U;
  private readonly maxQueued: number;
  private socket: DgramSocket | null = null;
  private w: Waiter | null = null;
  private bound = false;
  private failure: unknown = null;

  constructor(o: BindOpts, create: (o: BindOpts) => DgramSocket, make: (state: UdpState) => U) {
    if (o === null || typeof o !== 'object') throw new InvalidArgumentError('bindUdp: options must be an object');
    if (o.type !== undefined && o.type !== 'udp4' && o.type !== 'udp6') {
      throw new InvalidArgumentError(`bindUdp: type must be 'udp4' or 'udp6', got ${String(o.type)}`);
    }
    if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
      throw new InvalidArgumentError('bindUdp: host must be a non-empty string');
    }
    checkPort(o.port ?? 0, 'bindUdp', true);
    checkBool(o.reuseAddr, 'reuseAddr', 'bindUdp');
    checkBool(o.ipv6Only, 'ipv6Only', 'bindUdp');
    checkBool(o.broadcast, 'broadcast', 'bindUdp');
    checkBool(o.multicastLoopback, 'multicastLoopback', 'bindUdp');
    checkIntRange(o.multicastTtl, 'multicastTtl', 'bindUdp', 0, 255);
    checkString(o.multicastInterface, 'multicastInterface', 'bindUdp');
    checkIntRange(o.recvBufferSize, 'recvBufferSize', 'bindUdp', 1, MAX_BUFFER_SIZE);
    checkIntRange(o.sendBufferSize, 'sendBufferSize', 'bindUdp', 1, MAX_BUFFER_SIZE);
    const maxQueued = o.maxQueued ?? 1024;
    if (typeof maxQueued !== 'number' || !Number.isInteger(maxQueued) || maxQueued < 1) {
      throw new InvalidArgumentError(`bindUdp: maxQueued must be an integer >= 1, got ${String(maxQueued)}`);
    }
    super(o);
    this.o = o;
    this.create = create;
    this.make = make;
    this.maxQueued = maxQueued;
  }

  protected override reset(): void {
    this.socket = null;
    this.bound = false;
    this.failure = null;
  }

  protected attempt(): U | NotReady {
    let sock = this.socket;
    if (sock === null) {
      sock = this.socket = this.create(this.o);
      sock.on('error', this.onError);
      sock.bind({ port: this.o.port ?? 0, address: this.o.host }, this.onBound);
      return NOT_READY;
    }
    if (this.failure !== null) {
      this.socket = null;
      closeQuietly(sock);
      throw mapNodeError(this.failure, `bind udp ${this.o.host ?? '*'}:${this.o.port ?? 0}`);
    }
    if (!this.bound) return NOT_READY;
    this.socket = null;
    sock.off('error', this.onError);
    try {
      const o = this.o;
      if (o.broadcast !== undefined) sock.setBroadcast(o.broadcast);
      if (o.multicastTtl !== undefined) sock.setMulticastTTL(o.multicastTtl);
      if (o.multicastLoopback !== undefined) sock.setMulticastLoopback(o.multicastLoopback);
      if (o.multicastInterface !== undefined) sock.setMulticastInterface(o.multicastInterface);
      if (o.recvBufferSize !== undefined) sock.setRecvBufferSize(o.recvBufferSize);
      if (o.sendBufferSize !== undefined) sock.setSendBufferSize(o.sendBufferSize);
    } catch (e) {
      closeQuietly(sock);
      throw mapNodeError(e, 'bindUdp: setting socket options');
    }
    return this.make(new UdpState(sock, this.maxQueued));
  }

  private readonly onBound = (): void => {
    this.bound = true;
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
    closeQuietly(sock);
  }

  protected waiter(): Waiter {
    return (this.w ??= new Waiter(BIND, this, () => `bind udp ${this.o.host ?? '*'}:${this.o.port ?? 0}`));
  }

  protected what(): string {
    return `bind udp ${this.o.host ?? '*'}:${this.o.port ?? 0}`;
  }
}

function closeQuietly(sock: DgramSocket): void {
  try {
    sock.close();
  } catch {
    // Not running (bind failed): nothing to release.
  }
}
