import { Buffer } from 'node:buffer';
import { createSocket } from 'node:dgram';
import type { Operation } from '@rioco/core';
import type { InetAddress } from './SocketAddress.js';
import type { WaitOptions } from './WaitOptions.js';
import { BindOp, RecvOp, SendOp, type UdpState } from './internal/UdpState.js';
import { mapNodeError } from './internal/nodeErrors.js';
import { checkBool, checkIntRange, checkIp, checkString } from './internal/address.js';

/**
 * One received datagram.
 * @example
 * ```ts
 * const { bytes, from } = yield* sock.recv();
 * yield* sock.send(from, bytes); // reply
 * ```
 * @public
 */
export interface Datagram {
  /** The payload. */
  readonly bytes: Buffer;
  /** The sender's address: pass it to `send` to reply. */
  readonly from: InetAddress;
}

/**
 * Where {@link UdpSocket.send} sends: an IP address or host name and a port. An
 * {@link InetAddress} (a datagram's `from`) fits.
 * @public
 */
export interface UdpTarget {
  /** IP address or host name. */
  readonly address: string;
  /** Port, 1..65535. */
  readonly port: number;
}

/**
 * Options of {@link bindUdp}.
 * @public
 */
export interface UdpBindOptions extends WaitOptions {
  /** `'udp4'` (default, or `'udp6'` when `host` contains a colon) or `'udp6'`. */
  type?: 'udp4' | 'udp6';
  /** Local address; default: every interface. */
  host?: string;
  /** Local port; `0` (default) picks a free one. */
  port?: number;
  /** Let several sockets bind the same address (SO_REUSEADDR), e.g. to share a multicast group. */
  reuseAddr?: boolean;
  /** With `udp6`, do not receive IPv4 datagrams too. */
  ipv6Only?: boolean;
  /** Allow sending to broadcast addresses. */
  broadcast?: boolean;
  /** Time-to-live of outgoing multicast datagrams (hops: an integer from 0 to 255, default 1). */
  multicastTtl?: number;
  /** Receive our own multicast datagrams. */
  multicastLoopback?: boolean;
  /** Interface (its address) for outgoing multicast. */
  multicastInterface?: string;
  /** Datagrams kept for a fiber that is not receiving; later ones are dropped (counted). Default 1024. */
  maxQueued?: number;
  /** Kernel receive buffer size (SO_RCVBUF), bytes: a positive integer. */
  recvBufferSize?: number;
  /** Kernel send buffer size (SO_SNDBUF), bytes: a positive integer. */
  sendBufferSize?: number;
}

/**
 * A bound UDP socket: `send` datagrams anywhere, `recv` them with their sender.
 *
 * @remarks
 * Datagrams that arrive while no fiber receives are queued up to `maxQueued`, then
 * dropped and counted in `droppedDatagrams` (UDP makes no delivery promise). A recv that
 * times out, aborts or is cancelled leaves the queue untouched. The socket belongs to
 * the fiber that bound it and is closed when that fiber ends.
 *
 * The setters and membership calls check their arguments first: a value of the wrong
 * type or out of range throws `InvalidArgumentError` (from `@rioco/core`, code
 * `INVALID_ARGUMENT`); what the system refuses is a {@link NetError}.
 *
 * @example
 * ```ts
 * using sock = yield* bindUdp({ host: '127.0.0.1', port: 5353 });
 * for (;;) {
 *   const { bytes, from } = yield* sock.recv();
 *   yield* sock.send(from, bytes);
 * }
 * ```
 * @public
 */
export class UdpSocket implements Disposable {
  private readonly u: UdpState;

  /** @internal */
  constructor(state: unknown) {
    this.u = state as UdpState;
  }

  /** The bound address (with the port the system picked for port 0). */
  get localAddress(): InetAddress {
    return this.u.local;
  }

  /** Datagrams dropped because `maxQueued` were already waiting for a receiver. */
  get droppedDatagrams(): number {
    return this.u.dropped;
  }

  /** Whether `close()` was called (or the owning fiber ended). */
  get closed(): boolean {
    return this.u.closedByUs;
  }

  /**
   * Send one datagram; returns once it went to the kernel. Fails on, e.g., a datagram
   * too large (`EMSGSIZE`, code `NET_ERROR`).
   * @example
   * ```ts
   * yield* sock.send({ address: '127.0.0.1', port: 9999 }, Buffer.from('hi'));
   * ```
   */
  send(to: UdpTarget, bytes: Uint8Array | string, options?: WaitOptions): Operation<void> {
    return new SendOp(this.u, to, bytes, options);
  }

  /**
   * The next datagram and its sender. One receiver at a time.
   * @example
   * ```ts
   * const d = yield* sock.recv({ timeout: 1_000 });
   * ```
   */
  recv(options?: WaitOptions): Operation<Datagram> {
    return new RecvOp(this.u, options);
  }

  /**
   * Allow or forbid sending to broadcast addresses.
   * @example
   * ```ts
   * sock.setBroadcast(true);
   * ```
   */
  setBroadcast(on: boolean): void {
    checkBool(on, 'on', 'setBroadcast', true);
    this.call(() => this.u.socket.setBroadcast(on), 'setBroadcast');
  }

  /**
   * Time-to-live (hops) of outgoing unicast datagrams: an integer from 1 to 255.
   * @example
   * ```ts
   * sock.setTtl(16);
   * ```
   */
  setTtl(ttl: number): void {
    checkIntRange(ttl, 'ttl', 'setTtl', 1, 255, true);
    this.call(() => this.u.socket.setTTL(ttl), 'setTtl');
  }

  /**
   * Time-to-live (hops) of outgoing multicast datagrams: an integer from 0 to 255.
   * @example
   * ```ts
   * sock.setMulticastTtl(1);
   * ```
   */
  setMulticastTtl(ttl: number): void {
    checkIntRange(ttl, 'ttl', 'setMulticastTtl', 0, 255, true);
    this.call(() => this.u.socket.setMulticastTTL(ttl), 'setMulticastTtl');
  }

  /**
   * Whether our own multicast datagrams loop back to us.
   * @example
   * ```ts
   * sock.setMulticastLoopback(true);
   * ```
   */
  setMulticastLoopback(on: boolean): void {
    checkBool(on, 'on', 'setMulticastLoopback', true);
    this.call(() => this.u.socket.setMulticastLoopback(on), 'setMulticastLoopback');
  }

  /**
   * The interface (by its address) outgoing multicast uses.
   * @example
   * ```ts
   * sock.setMulticastInterface('127.0.0.1');
   * ```
   */
  setMulticastInterface(iface: string): void {
    checkString(iface, 'iface', 'setMulticastInterface', true);
    this.call(() => this.u.socket.setMulticastInterface(iface), 'setMulticastInterface');
  }

  /**
   * Join a multicast group (optionally on one interface); both are IP addresses.
   * @example
   * ```ts
   * sock.addMembership('239.1.2.3', '127.0.0.1');
   * ```
   */
  addMembership(group: string, iface?: string): void {
    checkIp(group, 'group', 'addMembership', true);
    checkIp(iface, 'iface', 'addMembership');
    this.call(() => this.u.socket.addMembership(group, iface), 'addMembership');
  }

  /**
   * Leave a multicast group (optionally on one interface); both are IP addresses.
   * @example
   * ```ts
   * sock.dropMembership('239.1.2.3', '127.0.0.1');
   * ```
   */
  dropMembership(group: string, iface?: string): void {
    checkIp(group, 'group', 'dropMembership', true);
    checkIp(iface, 'iface', 'dropMembership');
    this.call(() => this.u.socket.dropMembership(group, iface), 'dropMembership');
  }

  /**
   * Make the current fiber the socket's owner (it closes when that fiber ends).
   * @example
   * ```ts
   * spawn(function* () { sock.adopt(); for (;;) yield* sock.recv(); });
   * ```
   */
  adopt(): void {
    this.u.checkOpen();
    this.u.adopt();
  }

  /**
   * Close the socket; a fiber parked in `recv()` gets {@link SocketClosedError}. Idempotent.
   * @example
   * ```ts
   * sock.close();
   * ```
   */
  close(): void {
    this.u.close();
  }

  /**
   * Same as {@link UdpSocket.close}, for `using`.
   * @example
   * ```ts
   * using sock = yield* bindUdp({ port: 0 });
   * ```
   */
  [Symbol.dispose](): void {
    this.u.close();
  }

  private call(f: () => void, what: string): void {
    this.u.checkOpen();
    try {
      f();
    } catch (e) {
      throw mapNodeError(e, what);
    }
  }
}

/**
 * Create and bind a UDP socket.
 *
 * @remarks
 * Bad options (a port outside 0..65535, a `multicastTtl` outside 0..255, a buffer size
 * that is not a positive integer, a non-boolean flag, …) throw `InvalidArgumentError`
 * at the call, before any socket exists.
 *
 * @example
 * ```ts
 * using sock = yield* bindUdp({ host: '127.0.0.1', port: 0 });
 * console.log(sock.localAddress.port);
 * ```
 * @public
 */
export function bindUdp(options: UdpBindOptions = {}): Operation<UdpSocket> {
  return new BindOp<UdpSocket>(
    options,
    (o) =>
      createSocket({
        type: o.type ?? (o.host?.includes(':') ? 'udp6' : 'udp4'),
        reuseAddr: o.reuseAddr === true,
        ipv6Only: o.ipv6Only === true,
      }),
    (state) => new UdpSocket(state),
  );
}
