/**
 * The socket reactor: this thread's epoll set in the native library (native/src/io.c),
 * seen from JavaScript. One per thread (per realm), opened on first use and kept until
 * the thread's environment ends (the native side then closes every descriptor it
 * still owns).
 *
 * Invariants:
 *  - The native side delivers readiness in batches through one koffi callback into
 *    `dispatch`, on this thread, inside a callback scope: listeners run there, and the
 *    fibers they wake run in the microtask checkpoint right after.
 *  - `listeners[token]` is the listener of the socket registered with `token`;
 *    tokens are reused (LIFO) after `unregister`. A token is unregistered only after
 *    its descriptor is closed, so a late event for it finds no listener or a new one
 *    whose readiness flags tolerate a spurious event (readiness is a hint: the next
 *    system call says EAGAIN if it was stale).
 *  - The event loop is held (the uv_poll ref'd) while `holds > 0`; dropping to zero
 *    unrefs on the next loop turn, so a fiber that wakes and parks again at once costs
 *    no native call.
 *  - Every native call here is per socket operation (read, write, accept, …), never
 *    per fiber switch. Armed reads (armRead) are requested through shared memory and
 *    delivered with the event batch: a parked reader costs no call at all.
 *  - The slab the native side reads into is referenced here until it is replaced (in
 *    `dispatch`, once less than MIN_READ is left); chunks handed out keep their slab
 *    alive, and the native side never writes into a replaced one.
 */
import { Buffer } from 'node:buffer';
import { constants } from 'node:os';
import { RiocoError } from '../../errors.js';
import { loadNative, type NativeLib, type NativePointer } from './load.js';

/**
 * Something registered with the reactor: told the readiness bits of its socket.
 * @example
 * ```ts
 * const token = reactor.register({ onReadiness: (bits) => { if (bits & Readiness.readable) wakeReader(); } });
 * ```
 * @beta
 */
export interface ReadinessListener {
  /** Called on this thread with {@link Readiness} bits; must not throw. */
  onReadiness(readiness: number): void;
  /**
   * The read armed with {@link SocketReactor.armRead} happened with the event just
   * delivered to `onReadiness`: `result` is the byte count (the bytes are `chunk`, a view
   * of the reactor's slab that stays valid), 0 at the end of stream, or -errno (then
   * `chunk` is null). `readiness` had {@link Readiness.drained} when the read emptied the
   * receive queue. Must not throw.
   */
  onRead?(result: number, chunk: Buffer | null): void;
  /**
   * A write queued with {@link SocketReactor.queueWrite} was not taken whole when the
   * queue was flushed: `result` is the byte count the kernel took (then `rest` holds a
   * copy of the bytes it did not), `-EAGAIN` (`rest` holds them all), or another -errno
   * (`rest` is null). Must not throw.
   */
  onWritten?(result: number, rest: Buffer | null): void;
}

const BATCH = 256;
/** rioco.h RIOCO_IO_ARM_MAX, RIOCO_IO_MIN_READ, RIOCO_IO_NOT_READ. */
const ARM_MAX = 65536;
const MIN_READ = 16 * 1024;
const NOT_READ = -0x80000000;
/** Armed reads land in slabs this large; a slab with less than MIN_READ left is replaced. */
const SLAB = 64 * 1024;
/** rioco.h RIOCO_IO_WQ_MAX, RIOCO_IO_WQ_BYTES. */
const WQ_MAX = 1024;
const WQ_BYTES = 256 * 1024;
/**
 * Writes up to this many bytes are queued (copied); larger ones go to the kernel at once.
 * Copying 4 KiB costs about what the native call it saves does.
 */
const WQ_WRITE_MAX = 4096;
const EAGAIN = -constants.errno.EAGAIN;
/** A resolved promise's then() is several times cheaper than queueMicrotask (see runtime.ts). */
const RESOLVED = Promise.resolve();

export class SocketReactorImpl {
  readonly lib: NativeLib;
  private readonly io: NativePointer;
  private readonly ready: Int32Array;
  /** arms[fd] = 1: read `fd` on its next readable event (see armRead). */
  private readonly arms: Uint8Array;
  /** Where armed reads go; the native side holds its address (kept alive here). */
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB);
  /**
   * The slab's ArrayBuffer and offset in it, read once per slab: `slab.buffer` is a
   * runtime call (not inlined), and chunks are made per event.
   */
  private slabAb: ArrayBuffer = this.slab.buffer as ArrayBuffer;
  private slabBase: number = this.slab.byteOffset;
  private listeners: (ReadinessListener | undefined)[] = [undefined];
  private freeTokens: number[] = [];
  private holds = 0;
  private refd = false;
  private unrefScheduled = false;
  private readonly addrBuf = Buffer.alloc(256);
  /** The native write queue (fd, offset, length → result) and its bytes (see queueWrite). */
  private readonly wq: Int32Array;
  private readonly wbytes: Buffer;
  /** Per queued write: its listener's token and length. */
  private readonly wtokens = new Int32Array(WQ_MAX);
  private readonly wlens = new Int32Array(WQ_MAX);
  private wn = 0;
  private woff = 0;
  /** Flushes so far; `marks[token] === wgen + 1` while the token has a write queued. */
  private wgen = 0;
  private marks = new Int32Array(64);
  private flushScheduled = false;
  /** In flushWrites' result loop: nothing is queued then (the entries are being read). */
  private flushing = false;
  private readonly flushFn = (): void => {
    this.flushScheduled = false;
    this.flushWrites();
  };

  constructor(lib: NativeLib) {
    this.lib = lib;
    // Registered once per thread and never unregistered: the io outlives every call.
    const cb = lib.koffi.register(this.dispatch, lib.koffi.pointer(lib.ioFnType as string));
    const io = lib.fn.ioOpen(lib.koffi.node.env, cb);
    if (io === null) {
      throw new RiocoError('NATIVE_UNAVAILABLE', 'the socket reactor needs Node.js event-loop symbols (uv_poll_*, napi_*) that this process does not export');
    }
    this.io = io;
    this.ready = new Int32Array(lib.koffi.view(lib.fn.ioReady(io), (4 * BATCH + 1) * 4));
    this.arms = new Uint8Array(lib.koffi.view(lib.fn.ioArms(io), ARM_MAX));
    lib.fn.ioSetSlab(io, this.slab, SLAB);
    this.wq = new Int32Array(lib.koffi.view(lib.fn.ioWq(io), 3 * WQ_MAX * 4));
    this.wbytes = Buffer.from(lib.koffi.view(lib.fn.ioWqBytes(io), WQ_BYTES));
  }

  private readonly dispatch = (n: number): void => {
    const ready = this.ready;
    const listeners = this.listeners;
    const ab = this.slabAb;
    const base = this.slabBase;
    for (let i = 0; i < n; i++) {
      const e = 4 * i;
      const l = listeners[ready[e]];
      if (l === undefined) continue;
      try {
        l.onReadiness(ready[e + 1]);
        const res = ready[e + 3];
        if (res !== NOT_READ && l.onRead !== undefined) {
          // Buffer.from(arrayBuffer, …) makes the view ~2x faster than subarray() does.
          l.onRead(res, res > 0 ? Buffer.from(ab, base + ready[e + 2], res) : null);
        }
      } catch (err) {
        // Never let an exception escape into native code (it would resurface in the
        // next unrelated koffi call).
        rethrowLater(err);
      }
    }
    // The chunks handed out keep the old slab alive for as long as they are used.
    if (SLAB - ready[4 * BATCH] < MIN_READ) this.newSlab();
  };

  private newSlab(): void {
    this.slab = Buffer.allocUnsafeSlow(SLAB);
    this.slabAb = this.slab.buffer as ArrayBuffer;
    this.slabBase = this.slab.byteOffset;
    this.lib.fn.ioSetSlab(this.io, this.slab, SLAB);
  }

  armRead(fd: number): boolean {
    if (fd < 0 || fd >= ARM_MAX) return false;
    this.arms[fd] = 1;
    return true;
  }

  disarmRead(fd: number): void {
    if (fd >= 0 && fd < ARM_MAX) this.arms[fd] = 0;
  }

  register(listener: ReadinessListener): number {
    const token = this.freeTokens.pop() ?? this.listeners.length;
    this.listeners[token] = listener;
    return token;
  }

  /** Sockets registered now (each is open: a token is unregistered right after its close). */
  get registered(): number {
    return this.listeners.length - 1 - this.freeTokens.length;
  }

  unregister(token: number): void {
    if (token <= 0 || this.listeners[token] === undefined) return;
    this.listeners[token] = undefined;
    this.freeTokens.push(token);
  }

  hold(): void {
    if (this.holds++ === 0 && !this.refd) {
      this.refd = true;
      this.lib.fn.ioRef(this.io, 1);
    }
  }

  release(): void {
    if (--this.holds === 0 && this.refd && !this.unrefScheduled) {
      this.unrefScheduled = true;
      setImmediate(this.checkUnref);
    }
  }

  private readonly checkUnref = (): void => {
    this.unrefScheduled = false;
    if (this.holds === 0 && this.refd) {
      this.refd = false;
      this.lib.fn.ioRef(this.io, 0);
    }
  };

  listen(family: number, address: string, port: number, backlog: number, flags: number, token: number): number {
    return this.lib.fn.ioListen(this.io, family, address, port, backlog, flags, token);
  }

  accept(listenFd: number, token: number, options: number, keepAliveSeconds: number): number {
    return this.lib.fn.ioAccept(this.io, listenFd, token, options, keepAliveSeconds);
  }

  connect(
    family: number,
    address: string,
    port: number,
    localAddress: string | undefined,
    localPort: number,
    token: number,
    options: number,
    keepAliveSeconds: number,
  ): number {
    return this.lib.fn.ioConnect(this.io, family, address, port, localAddress ?? null, localPort, token, options, keepAliveSeconds);
  }

  socketError(fd: number): number {
    return this.lib.fn.ioSockError(fd);
  }

  read(fd: number, buf: Uint8Array, offset: number, length: number): number {
    return this.lib.fn.ioRead(fd, buf, offset, length);
  }

  write(fd: number, buf: Uint8Array, offset: number, length: number): number {
    return this.lib.fn.ioWrite(fd, buf, offset, length);
  }

  queueWrite(token: number, fd: number, buf: Uint8Array, offset: number, length: number): boolean {
    if (length > WQ_WRITE_MAX || length <= 0 || token <= 0 || this.flushing) return false;
    const bytes = offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length);
    let n = this.wn;
    if (token < this.marks.length && this.marks[token] === this.wgen + 1) {
      if (this.wtokens[n - 1] === token && this.wlens[n - 1] + length <= WQ_WRITE_MAX && this.woff + length <= WQ_BYTES) {
        // The token's entry is the last one, its bytes end where these go: extend it (up
        // to WQ_WRITE_MAX, so a socket never has more than that queued).
        this.wbytes.set(bytes, this.woff);
        this.wq[3 * (n - 1) + 2] += length;
        this.wlens[n - 1] += length;
        this.woff += length;
        return true;
      }
      // One entry per descriptor per flush: a short write must not let a later one pass.
      // The flush may have left the socket with bytes pending: its owner decides.
      this.flushWrites();
      return false;
    }
    if (n === WQ_MAX || this.woff + length > WQ_BYTES) {
      this.flushWrites();
      n = this.wn;
    }
    const off = this.woff;
    this.wbytes.set(bytes, off);
    const e = 3 * n;
    this.wq[e] = fd;
    this.wq[e + 1] = off;
    this.wq[e + 2] = length;
    this.wtokens[n] = token;
    this.wlens[n] = length;
    this.wn = n + 1;
    this.woff = off + length;
    if (token >= this.marks.length) {
      const next = new Int32Array(Math.max(token + 1, this.marks.length * 2));
      next.set(this.marks);
      this.marks = next;
    }
    this.marks[token] = this.wgen + 1;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After the fibers running now: the microtask queue is FIFO.
      void RESOLVED.then(this.flushFn);
    }
    return true;
  }

  hasQueuedWrite(token: number): boolean {
    return token > 0 && token < this.marks.length && this.marks[token] === this.wgen + 1;
  }

  flushWrites(): void {
    const n = this.wn;
    if (n === 0) return;
    this.wn = 0;
    this.wgen++; // every mark is stale now
    const short = this.lib.fn.ioFlush(this.io, n);
    if (short !== 0) {
      this.flushing = true;
      const wq = this.wq;
      for (let i = 0; i < n; i++) {
        const r = wq[3 * i + 2];
        const len = this.wlens[i];
        if (r === len) continue;
        const l = this.listeners[this.wtokens[i]];
        if (l === undefined || l.onWritten === undefined) continue;
        const off = wq[3 * i + 1];
        // A copy: the queue's bytes are overwritten by the next turn's writes.
        const rest = r >= 0 || r === EAGAIN ? Buffer.from(this.wbytes.subarray(off + Math.max(r, 0), off + len)) : null;
        try {
          l.onWritten(r, rest);
        } catch (err) {
          rethrowLater(err); // and go on with the other results
        }
      }
      this.flushing = false;
    }
    this.woff = 0;
  }

  shutdown(fd: number): number {
    return this.lib.fn.ioShutdown(fd);
  }

  setOptions(fd: number, options: number, keepAliveSeconds: number): number {
    return this.lib.fn.ioSetopt(fd, options, keepAliveSeconds);
  }

  close(fd: number, reset: boolean): number {
    return this.lib.fn.ioCloseFd(this.io, fd, reset ? 1 : 0);
  }

  address(fd: number, peer: boolean): { family: 'IPv4' | 'IPv6' | 'unix'; address: string; port: number } | number {
    const b = this.addrBuf;
    const n = this.lib.fn.ioAddr(fd, peer ? 1 : 0, b, b.length);
    if (n < 0) return n;
    const text = b.toString('utf8', 0, n);
    const s1 = text.indexOf(' ');
    const s2 = text.indexOf(' ', s1 + 1);
    const kind = text.slice(0, s1);
    return {
      family: kind === '4' ? 'IPv4' : kind === '6' ? 'IPv6' : 'unix',
      port: Number(text.slice(s1 + 1, s2)),
      address: text.slice(s2 + 1),
    };
  }

  /** Move ready events into the dispatch without waiting for the loop (tests). */
  pollNow(): number {
    const n = this.lib.fn.ioPoll(this.io);
    if (n > 0) this.dispatch(n);
    return n;
  }
}

/** A listener's exception, rethrown as an uncaught error of its own. */
function rethrowLater(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}

let reactor: SocketReactorImpl | null | undefined;

/** Sockets open on this thread's reactor, without creating one (for runTest's leak check). */
export function openReactorSockets(): number {
  return reactor === undefined || reactor === null ? 0 : reactor.registered;
}

/** This thread's reactor, or null where the native path is unavailable (not Linux, no library). */
export function reactorOrNull(): SocketReactorImpl | null {
  if (reactor !== undefined) return reactor;
  reactor = null;
  if (process.platform !== 'linux') return null;
  let lib: NativeLib;
  try {
    lib = loadNative();
  } catch {
    return null;
  }
  if (lib.fn.ioAvailable() !== 1) return null;
  try {
    reactor = new SocketReactorImpl(lib);
  } catch {
    reactor = null;
  }
  return reactor;
}

let errnoNames: Map<number, string> | undefined;

/** `-104` (or `104`) → `'ECONNRESET'`; unknown numbers → `'E<n>'`. */
export function errnoName(code: number): string {
  if (errnoNames === undefined) {
    errnoNames = new Map();
    for (const [name, n] of Object.entries(constants.errno)) errnoNames.set(n, name);
  }
  const n = Math.abs(code);
  return errnoNames.get(n) ?? `E${n}`;
}
