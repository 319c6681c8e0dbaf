/**
 * connect() on the native readiness path: resolve the host (node:dns, all addresses,
 * in the system's order), start a non-blocking connect, park until the socket turns
 * writable, read how it ended (SO_ERROR), and try the next address when one refuses.
 *
 * Invariant: the descriptor of an attempt is either handed to exactly one Stream or
 * closed — on error, timeout, abort and cancellation alike (`abandon`); a lookup that
 * answers after the operation ended is ignored.
 */
import { lookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Family, waitReason, type SocketReactor } from '@rioco/core';
import { BlockingOp, NOT_READY, type NotReady } from './BlockingOp.js';
import { Waiter } from './Waiter.js';
import { mapNodeError } from './nodeErrors.js';
import { inet, unix } from './address.js';
import type { StreamConfig } from './connectOp.js';
import type { StreamState } from './StreamState.js';
import { NativeStreamState } from './NativeStreamState.js';
import { streamFlags } from './nativeListen.js';
import { errnoError } from './errno.js';
import type { WaitOptions } from '../WaitOptions.js';

const CONNECT = waitReason('net.connect');

export interface NativeConnectOpts extends WaitOptions {
  host?: string;
  port?: number;
  path?: string;
  localAddress?: string;
  localPort?: number;
  family?: 4 | 6;
}

export class NativeConnectOp<S> extends BlockingOp<S> {
  private readonly r: SocketReactor;
  private readonly o: NativeConnectOpts;
  private readonly cfg: StreamConfig;
  private readonly target: string;
  private readonly make: (state: StreamState) => S;
  private w: Waiter | null = null;
  /** 0: start; 1: resolving; 2: connecting `st`. */
  private phase = 0;
  private addrs: LookupAddress[] = [];
  private nextAddr = 0;
  private st: NativeStreamState | null = null;
  private failure: unknown = null;
  private lastError = 0;
  private run = 0;

  constructor(r: SocketReactor, o: NativeConnectOpts, cfg: StreamConfig, target: string, make: (state: StreamState) => S) {
    super(o);
    this.r = r;
    this.o = o;
    this.cfg = cfg;
    this.target = target;
    this.make = make;
  }

  protected override reset(): void {
    this.phase = 0;
    this.addrs = [];
    this.nextAddr = 0;
    this.st = null;
    this.failure = null;
    this.lastError = 0;
    this.run++;
  }

  protected attempt(): S | NotReady {
    const o = this.o;
    if (this.phase === 0) {
      if (o.path !== undefined) {
        this.addrs = [{ address: o.path, family: Family.unix }];
        return this.connectNext();
      }
      const host = o.host ?? 'localhost';
      const fam = isIP(host);
      if (fam !== 0) {
        this.addrs = [{ address: host, family: fam }];
        return this.connectNext();
      }
      this.phase = 1;
      const run = this.run;
      lookup(host, { all: true, family: o.family ?? 0 }, (err, addresses) => {
        if (run !== this.run) return;
        if (err) this.failure = err;
        else this.addrs = addresses;
        this.phase = 2;
        this.w?.wake();
      });
      return NOT_READY;
    }
    if (this.phase === 1) return NOT_READY;
    if (this.failure !== null) throw mapNodeError(this.failure, `connect to ${this.target}`);
    const st = this.st;
    if (st === null) return this.connectNext();
    if (!st.writable) return NOT_READY;
    const err = this.r.socketError(st.fd);
    if (err === 0) {
      st.connectWaiter = null;
      this.st = null;
      return this.make(st);
    }
    // Refused (or unreachable) on this address: the next one, if any.
    this.st = null;
    st.close();
    this.lastError = err;
    return this.connectNext();
  }

  private connectNext(): S | NotReady {
    const o = this.o;
    const cfg = this.cfg;
    while (this.nextAddr < this.addrs.length) {
      const a = this.addrs[this.nextAddr++];
      const unixSocket = a.family === Family.unix;
      const port = o.port ?? 0;
      const remote = unixSocket ? unix(a.address) : inet(a.address, port, a.family === 6 ? 'IPv6' : 'IPv4');
      const st = new NativeStreamState(this.r, remote, unixSocket ? a.address : undefined, false);
      const fd = this.r.connect(
        a.family,
        a.address,
        port,
        o.localAddress,
        o.localPort ?? 0,
        st.token,
        streamFlags(cfg, unixSocket),
        Math.ceil(cfg.keepAliveInitialDelay / 1000),
      );
      if (fd < 0) {
        st.discard();
        this.lastError = fd;
        continue;
      }
      st.open(fd, true);
      st.connectWaiter = this.waiter();
      this.st = st;
      this.phase = 2;
      return NOT_READY;
    }
    throw errnoError(this.lastError === 0 ? -22 : this.lastError, 'connect', `connect to ${this.target}`);
  }

  protected override abandon(): void {
    this.run++; // a lookup still in flight is ignored
    const st = this.st;
    if (st === null) return;
    this.st = null;
    st.close();
  }

  protected waiter(): Waiter {
    let w = this.w;
    if (w === null) {
      w = this.w = new Waiter(CONNECT, this, () => this.what());
      w.keepAlive = this.r;
    }
    return w;
  }

  protected what(): string {
    return `connect to ${this.target}`;
  }
}
