/**
 * Channel implementation: a ring buffer plus two intrusive wait lists.
 *
 * Invariants (between operations):
 * - `recvq` non-empty  =>  the buffer is empty and `sendq` is empty (a receiver only
 *   waits when nothing can be received; a sender hands straight to a waiting receiver);
 * - `sendq` non-empty  =>  the buffer is full (`size >= capacity`; 0 for rendezvous) and
 *   `recvq` is empty (one exception: a select parked with both a send and a receive
 *   case on the same rendezvous channel sits in both lists; its cases never match each
 *   other, since matching only happens when another operation polls);
 * - the buffer holds at most `capacity` messages, except right after a cancelled
 *   receiver gave a message back (`unrecv`): it may then exceed it until drained;
 * - once `shut`, no message enters the buffer except one given back, and both lists
 *   only drain.
 *
 * Handoff: the party that completes a waiter (a sender for a parked receiver, a
 * receiver for a parked sender, `close`) unlinks the waiter, changes the channel state
 * and records the outcome on the waiter *before* resuming it (`deliver`, `taken`, ...).
 * A waiter cancelled while still linked is unlinked by its teardown and was never handed
 * anything. A waiter cancelled after it was handed a message but before it ran gets
 * `return()` at its `yield*` and gives the message back to the head of the channel
 * (`unrecv`), so no message is ever lost or received twice.
 *
 * Records move through the states of states.ts. `parking` carries the record from
 * next() to the register function: the scheduler calls register synchronously right
 * after the yield (or never, if the fiber is being cancelled), so one shared register
 * function serves every channel without a closure per operation.
 */
import {
  InvalidArgumentError,
  RiocoError,
  suspend,
  useScheduler,
  waitReason,
  type Instruction,
  type Operation,
  type Resume,
  type Teardown,
  type Scheduler,
  type Suspension,
  type TimerHandle,
} from '@rioco/core';
import type { Channel as PublicChannel } from '../Channel.js';
import type { DefaultCase, RecvCase, SelectCase, SendCase, TimeoutCase } from '../select.js';
import { ChannelClosedError, SendClosedError } from '../errors.js';
import { WaitList, type Node } from './list.js';
import { Ring } from './ring.js';
import { CLOSED, EMPTY } from './symbols.js';
import { E_FAST, afterYield, enter, entryMode, firstStep, parkedNow, ready, returned, takeResumed, type Step } from './coop.js';
import {
  S_DONE,
  S_GRANTED,
  S_PARK_SYNC,
  S_PARK_TRIED,
  S_PARKING_SYNC,
  S_PARKING_TRIED,
  S_QUEUED,
  S_RESUMED,
  S_START,
  S_YIELD,
  S_YIELDED,
  initialState,
} from './states.js';
import { generalize, pinMaps } from './maps.js';

const RECV = waitReason('channel.recv');
const SEND = waitReason('channel.send');
const SELECT = waitReason('channel.select');


/** Something parked in `recvq`: a fiber's recv, a select's receive case, an async iterator. */
interface RecvNode<T> extends Node {
  /** Hand `v` over (the node is already unlinked). */
  deliver(v: T): void;
  /** The channel closed with nothing buffered. */
  recvClosed(): void;
}

/** Something parked in `sendq`: a fiber's send or a select's send case. */
interface SendNode<T> extends Node {
  readonly value: T;
  /** The value was taken (the node is already unlinked). */
  taken(): void;
  /** The channel closed; the value was not sent. */
  sendClosed(): void;
}

let parkingRecv: RecvWaiter<unknown> | null = null;
let parkingSend: SendOp<unknown> | null = null;
let parkingSelect: SelectOp | null = null;

function closedError(ch: Channel<unknown>): ChannelClosedError {
  return ch.name === undefined
    ? new ChannelClosedError()
    : new ChannelClosedError(`channel "${ch.name}" closed: every buffered message was received and no more will come`);
}

function alreadyRunning(): RiocoError {
  return new InvalidArgumentError('this operation is already in progress in a fiber; create a new one (ch.send(v)) for each concurrent use');
}

export class Channel<T> implements PublicChannel<T> {
  readonly capacity: number;
  readonly name: string | undefined;
  readonly external: boolean;
  readonly buf: Ring<T>;
  readonly recvq = new WaitList<RecvNode<T>>();
  readonly sendq = new WaitList<SendNode<T>>();
  shut = false;
  /** Open async iterators: while > 0 the channel's waits are external wake sources. */
  outside = 0;
  /** Rotates the start of select scans (fairness without randomness, so seeds replay). */
  tick = 0;
  private readonly recvOp: RecvOp<T>;
  private orClosedOp: RecvOp<T> | null = null;
  private recvCase: RecvCaseImpl<T> | null = null;
  private suspRecvInt: Suspension<unknown> | null = null;
  private suspRecvExt: Suspension<unknown> | null = null;
  private suspSendInt: Suspension<unknown> | null = null;
  private suspSendExt: Suspension<unknown> | null = null;
  /** A finished send record kept for the next send (see SendCall). */
  spareSend: SendOp<T> | null = null;
  /** A finished receive record kept for the next receive that parks (see RecvOp). */
  spareRecv: RecvWaiter<T> | null = null;

  constructor(capacity: number, name: string | undefined, external: boolean) {
    this.capacity = capacity;
    this.name = name;
    this.external = external;
    this.buf = new Ring<T>(capacity === Infinity ? 16 : Math.min(capacity, 16));
    this.recvOp = new RecvOp<T>(this, false);
  }

  get size(): number {
    return this.buf.size;
  }

  get closed(): boolean {
    return this.shut;
  }

  // ---- core moves (no waiting) ---------------------------------------------------------

  /** Receive now if possible: a message, EMPTY (would wait) or CLOSED (closed, drained). */
  pollRecv(): T | typeof EMPTY | typeof CLOSED {
    const buf = this.buf;
    if (buf.size > 0) {
      const v = buf.shift();
      if (this.sendq.head !== null && buf.size < this.capacity) {
        const s = this.sendq.shift() as SendNode<T>;
        buf.push(s.value);
        s.taken();
      }
      return v;
    }
    const s = this.sendq.shift();
    if (s !== null) {
      const v = s.value;
      s.taken();
      return v;
    }
    return this.shut ? CLOSED : EMPTY;
  }

  /** Send now if possible (the caller checked `shut`). */
  pollSend(v: T): boolean {
    const r = this.recvq.shift();
    if (r !== null) {
      r.deliver(v);
      return true;
    }
    if (this.buf.size < this.capacity) {
      this.buf.push(v);
      return true;
    }
    return false;
  }

  /** A cancelled receiver gives back a message it was handed: it goes first again. */
  unrecv(v: T): void {
    const r = this.recvq.shift();
    if (r !== null) r.deliver(v);
    else this.buf.unshift(v);
  }

  /** What a receive parks on. The common case is small (it is inlined where sends park). */
  suspRecv(): Suspension<unknown> {
    const s = this.suspRecvInt; // only ever made for a channel that is not external
    if (s !== null && this.outside === 0) return s;
    return this.makeSuspRecv();
  }

  private makeSuspRecv(): Suspension<unknown> {
    if (this.external || this.outside > 0) {
      return (this.suspRecvExt ??= suspend(registerRecv, { reason: RECV, target: this, reuseResume: true }) as Suspension<unknown>);
    }
    return (this.suspRecvInt = suspend(registerRecv, { reason: RECV, target: this, internal: true, reuseResume: true }) as Suspension<unknown>);
  }

  /** What a send parks on (see suspRecv). */
  suspSend(): Suspension<unknown> {
    const s = this.suspSendInt;
    if (s !== null && this.outside === 0) return s;
    return this.makeSuspSend();
  }

  private makeSuspSend(): Suspension<unknown> {
    if (this.external || this.outside > 0) {
      return (this.suspSendExt ??= suspend(registerSend, { reason: SEND, target: this, reuseResume: true }) as Suspension<unknown>);
    }
    return (this.suspSendInt = suspend(registerSend, { reason: SEND, target: this, internal: true, reuseResume: true }) as Suspension<unknown>);
  }

  // ---- public API ----------------------------------------------------------------------

  send(value: T): Operation<void> {
    return new SendCall<T>(this, value);
  }

  recv(): Operation<T> {
    return this.recvOp;
  }

  recvOrClosed(): Operation<T | typeof CLOSED> {
    return (this.orClosedOp ??= new RecvOp<T>(this, true));
  }

  recvMany(max: number): Operation<T[]> {
    if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError(`recvMany(max) needs an integer max >= 1, got ${String(max)}`);
    return recvMany(this, max);
  }

  trySend(value: T): boolean {
    if (this.shut) throw new SendClosedError(value);
    return this.pollSend(value);
  }

  tryRecv(): T | typeof EMPTY | typeof CLOSED {
    return this.pollRecv();
  }

  close(): boolean {
    if (this.shut) return false;
    this.shut = true;
    let r: RecvNode<T> | null;
    while ((r = this.recvq.shift()) !== null) r.recvClosed();
    let s: SendNode<T> | null;
    while ((s = this.sendq.shift()) !== null) s.sendClosed();
    return true;
  }

  onRecv(): RecvCase<T> {
    return (this.recvCase ??= new RecvCaseImpl<T>(this));
  }

  onSend(value: T): SendCase<T> {
    return new SendCaseImpl<T>(this, value);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return new OutsideIterator<T>(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `Channel(${this.name ?? (this.capacity === Infinity ? 'unbounded' : this.capacity)})`;
  }
}

// ---- recv ---------------------------------------------------------------------------

/**
 * The operation `ch.recv()` returns: one per channel, reused, so a recv that completes
 * at once allocates nothing. The per-wait state lives in a RecvWaiter taken only when the
 * receive has to park (or go through the scheduler): the channel's spare one when it has
 * it, so a steady receiver allocates nothing either, and its record, long-lived, is
 * linked into the wait list without write barriers (as for sends, see SendCall).
 */
class RecvOp<T> {
  readonly ch: Channel<T>;
  readonly orClosed: boolean;
  constructor(ch: Channel<T>, orClosed: boolean) {
    this.ch = ch;
    this.orClosed = orClosed;
  }

  [Symbol.iterator](): Iterator<Instruction, T, unknown> {
    const mode = entryMode();
    if (mode === E_FAST) {
      const v = this.ch.pollRecv();
      // typeof first: comparing a message of any type with a symbol directly compiles to
      // a generic equality call.
      if (typeof v !== 'symbol') return ready(v);
      return this.notReceived(v);
    }
    return this.waiter(initialState(mode));
  }

  /** pollRecv gave EMPTY, CLOSED or a symbol message. Out of line (see waiter). */
  private notReceived(v: symbol): Iterator<Instruction, T, unknown> {
    if (v !== EMPTY) {
      if (v !== CLOSED || this.orClosed) return ready(v as T);
      throw closedError(this.ch);
    }
    return this.waiter(S_PARK_TRIED);
  }

  /**
   * The record of a receive that does not complete at once. Out of line: the fast path
   * above stays small enough to be inlined into the fiber's body.
   */
  private waiter(st: number): RecvWaiter<T> {
    const ch = this.ch;
    const w = ch.spareRecv;
    if (w === null) return new RecvWaiter<T>(ch, this.orClosed, st);
    ch.spareRecv = null;
    w.orClosed = this.orClosed;
    w.st = st;
    return w;
  }
}

class RecvWaiter<T> implements Node, RecvNode<T> {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  st: number;
  readonly ch: Channel<T>;
  orClosed: boolean;
  resume: Resume<unknown> | null = null;
  /** The message handed over while parked (given back if cancelled before running). */
  msg: T | undefined = undefined;

  constructor(ch: Channel<T>, orClosed: boolean, st: number) {
    this.ch = ch;
    this.orClosed = orClosed;
    this.st = st;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(token?: unknown): Step<T> {
    switch (this.st) {
      case S_PARK_TRIED:
      case S_PARK_SYNC:
      case S_YIELD:
        return firstStep(this);
      case S_YIELDED: {
        takeResumed(token);
        const v = this.ch.pollRecv();
        if (v === EMPTY) return this.park(S_PARKING_TRIED);
        this.finish();
        if (v !== CLOSED || this.orClosed) return ready(v as T);
        throw closedError(this.ch);
      }
      case S_GRANTED:
      case S_RESUMED:
        this.finish();
        return takeResumed(token);
      default:
        throw alreadyRunning();
    }
  }

  park(st: number): Step<T> {
    this.st = st;
    parkingRecv = this;
    return this.ch.suspRecv();
  }

  /**
   * The receive is over (its `yield*` makes no more calls): keep the record for the
   * channel's next receive. Not from cancel(): the cancelled fiber's `yield*` still calls
   * return() on this record afterwards.
   */
  private finish(): void {
    this.st = S_DONE;
    this.msg = undefined;
    const ch = this.ch;
    if (ch.spareRecv === null) ch.spareRecv = this;
  }

  return(value?: unknown): IteratorResult<Instruction, T> {
    const st = this.st;
    if (st === S_GRANTED) {
      const m = this.msg as T;
      this.msg = undefined;
      this.ch.unrecv(m);
    } else if (st === S_QUEUED) {
      this.ch.recvq.remove(this);
      this.resume = null;
    }
    this.finish();
    return returned(value as T);
  }

  throw(e: unknown): IteratorResult<Instruction, never> {
    this.return();
    throw e;
  }

  deliver(v: T): void {
    this.st = S_GRANTED;
    this.msg = v;
    const r = this.resume as Resume<unknown>;
    this.resume = null;
    r.ok(v);
  }

  recvClosed(): void {
    this.st = S_RESUMED;
    const r = this.resume as Resume<unknown>;
    this.resume = null;
    if (this.orClosed) r.ok(CLOSED);
    else r.fail(closedError(this.ch));
  }

  /** Teardown of a park (core calls it when the fiber is cancelled first). */
  cancel(): void {
    this.cancelWait();
  }

  cancelWait(): void {
    if (this.st !== S_QUEUED) return;
    this.st = S_DONE;
    this.ch.recvq.remove(this);
    this.resume = null;
  }
}

function registerRecv(resume: Resume<unknown>): Teardown | void {
  const w = parkingRecv as RecvWaiter<unknown>;
  parkingRecv = null;
  const ch = w.ch;
  if (w.st === S_PARKING_SYNC) {
    const v = ch.pollRecv();
    if (v !== EMPTY) {
      if (v === CLOSED) {
        w.st = S_RESUMED;
        if (w.orClosed) resume.ok(CLOSED);
        else resume.fail(closedError(ch));
      } else {
        w.st = S_GRANTED;
        w.msg = v;
        resume.ok(v);
      }
      return;
    }
  }
  parkedNow();
  w.st = S_QUEUED;
  w.resume = resume;
  ch.recvq.push(w);
  return w; // its cancel() undoes the wait: no closure per park
}

function* recvMany<T>(ch: Channel<T>, max: number): Generator<Instruction, T[], unknown> {
  const first = yield* ch.recvOrClosed();
  if (first === CLOSED) return [];
  const out: T[] = [first];
  while (out.length < max) {
    const v = ch.pollRecv();
    if (v === EMPTY || v === CLOSED) break;
    out.push(v);
  }
  return out;
}

// ---- send ---------------------------------------------------------------------------

/**
 * What `ch.send(v)` returns: the channel and the value only. Each run takes a send
 * record (the channel's spare one when it has it, so a steady sender allocates nothing
 * and its record, long-lived, is linked into wait lists without write barriers) and
 * gives it back when the send is over, however it ends. Running it again sends again;
 * concurrent runs get records of their own.
 */
class SendCall<T> {
  private readonly ch: Channel<T>;
  private readonly value: T;
  constructor(ch: Channel<T>, value: T) {
    this.ch = ch;
    this.value = value;
  }
  [Symbol.iterator](): Iterator<Instruction, void, unknown> {
    const ch = this.ch;
    const mode = entryMode();
    if (mode === E_FAST) {
      // The fast path: buffer room or a waiting receiver, no record at all.
      if (ch.shut) throw new SendClosedError(this.value);
      if (ch.pollSend(this.value)) return ready(undefined);
      // Park straight away: `yield*` runs the channel's Suspension itself, and the record
      // finishes where the wait ends (taken, sendClosed, cancel) instead of in next().
      const op = takeSendOp(ch, this.value);
      op.st = S_PARKING_TRIED;
      op.direct = true;
      parkingSend = op;
      return ch.suspSend() as Iterator<Instruction, void, unknown>;
    }
    const op = takeSendOp(ch, this.value);
    op.st = initialState(mode);
    return op;
  }
}

/** A send record for `value`: the channel's spare one when it has it. Out of line (see RecvOp.waiter). */
function takeSendOp<T>(ch: Channel<T>, value: T): SendOp<T> {
  const op = ch.spareSend;
  if (op === null) return new SendOp<T>(ch, value);
  ch.spareSend = null;
  op.value = value;
  return op;
}

class SendOp<T> implements Node, SendNode<T> {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  st = S_DONE;
  readonly ch: Channel<T>;
  value: T;
  resume: Resume<unknown> | null = null;
  /**
   * Parked by SendCall directly: `yield*` is running the channel's Suspension, not this
   * record, so the record finishes itself when the wait ends.
   */
  direct = false;

  constructor(ch: Channel<T>, value: T) {
    this.ch = ch;
    this.value = value;
  }

  [Symbol.iterator](): this {
    // DONE doubles as "fresh": an operation object may be run again (it sends again).
    if (this.st !== S_DONE) throw alreadyRunning();
    this.st = S_START;
    return this;
  }

  /** The send is over: keep the record for the channel's next send. */
  private finish(): void {
    this.st = S_DONE;
    this.direct = false;
    this.value = undefined as T;
    const ch = this.ch;
    if (ch.spareSend === null) ch.spareSend = this;
  }

  next(token?: unknown): Step<void> {
    switch (this.st) {
      case S_START:
        return enter(this);
      case S_PARK_TRIED:
      case S_PARK_SYNC:
      case S_YIELD:
        return firstStep(this);
      case S_YIELDED:
        return afterYield(this, token);
      case S_GRANTED:
      case S_RESUMED:
        this.finish();
        return takeResumed(token);
      default:
        throw alreadyRunning();
    }
  }

  attempt(): Step<void> {
    const ch = this.ch;
    if (ch.shut) {
      const v = this.value;
      this.finish();
      throw new SendClosedError(v);
    }
    if (ch.pollSend(this.value)) {
      this.finish();
      return ready(undefined);
    }
    return this.park(S_PARKING_TRIED);
  }

  park(st: number): Step<void> {
    this.st = st;
    parkingSend = this;
    return this.ch.suspSend();
  }

  return(value?: unknown): IteratorResult<Instruction, void> {
    if (this.st === S_QUEUED) {
      this.ch.sendq.remove(this);
      this.resume = null;
    }
    this.finish();
    return returned(value as void);
  }

  throw(e: unknown): IteratorResult<Instruction, never> {
    this.return();
    throw e;
  }

  taken(): void {
    // Nothing to undo if cancelled from here on: the value was received.
    const r = this.resume as Resume<unknown>;
    this.resume = null;
    if (this.direct) this.finish();
    else this.st = S_RESUMED;
    r.ok(undefined);
  }

  sendClosed(): void {
    const r = this.resume as Resume<unknown>;
    this.resume = null;
    const err = new SendClosedError(this.value);
    if (this.direct) this.finish();
    else this.st = S_RESUMED;
    r.fail(err);
  }

  /** Teardown of a park (core calls it when the fiber is cancelled first). */
  cancel(): void {
    this.cancelWait();
  }

  cancelWait(): void {
    if (this.st !== S_QUEUED) return;
    this.st = S_DONE;
    this.ch.sendq.remove(this);
    this.resume = null;
    if (this.direct) this.finish();
  }
}

function registerSend(resume: Resume<unknown>): Teardown | void {
  const w = parkingSend as SendOp<unknown>;
  parkingSend = null;
  const ch = w.ch;
  if (w.st === S_PARKING_SYNC) {
    if (ch.shut) {
      w.st = S_RESUMED;
      resume.fail(new SendClosedError(w.value));
      return;
    }
    if (ch.pollSend(w.value)) {
      w.st = S_RESUMED;
      resume.ok(undefined);
      return;
    }
  }
  parkedNow();
  w.st = S_QUEUED;
  w.resume = resume;
  ch.sendq.push(w);
  return w; // its cancel() undoes the wait: no closure per park
}

// ---- async iteration from outside fibers -----------------------------------------------

class OutsideRecv<T> implements Node, RecvNode<T> {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  readonly resolve: (r: IteratorResult<T>) => void;
  constructor(resolve: (r: IteratorResult<T>) => void) {
    this.resolve = resolve;
  }
  deliver(v: T): void {
    this.resolve({ done: false, value: v });
  }
  recvClosed(): void {
    this.resolve({ done: true, value: undefined });
  }
}

class OutsideIterator<T> implements AsyncIterator<T> {
  private ch: Channel<T> | null;
  private pending: OutsideRecv<T> | null = null;
  constructor(ch: Channel<T>) {
    this.ch = ch;
    ch.outside++;
  }

  next(): Promise<IteratorResult<T>> {
    const ch = this.ch;
    if (ch === null) return Promise.resolve({ done: true, value: undefined });
    if (this.pending !== null) {
      return Promise.reject(new InvalidArgumentError('wait for the previous next() of a channel iterator before calling it again'));
    }
    const v = ch.pollRecv();
    if (v === CLOSED) {
      this.finish();
      return Promise.resolve({ done: true, value: undefined });
    }
    if (v !== EMPTY) return Promise.resolve({ done: false, value: v });
    return new Promise<IteratorResult<T>>((resolve) => {
      const node = new OutsideRecv<T>((r) => {
        this.pending = null;
        if (r.done === true) this.finish();
        resolve(r);
      });
      this.pending = node;
      ch.recvq.push(node);
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.finish();
    return Promise.resolve({ done: true, value: undefined });
  }

  private finish(): void {
    const ch = this.ch;
    if (ch === null) return;
    this.ch = null;
    ch.outside--;
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      ch.recvq.remove(p);
      p.resolve({ done: true, value: undefined });
    }
  }
}

// ---- select ---------------------------------------------------------------------------

class RecvCaseImpl<T> implements RecvCase<T> {
  readonly kind = 'recv';
  readonly channel: Channel<T>;
  constructor(ch: Channel<T>) {
    this.channel = ch;
  }
}

class SendCaseImpl<T> implements SendCase<T> {
  readonly kind = 'send';
  readonly channel: Channel<T>;
  readonly value: T;
  constructor(ch: Channel<T>, value: T) {
    this.channel = ch;
    this.value = value;
  }
}

export class TimeoutCaseImpl implements TimeoutCase {
  readonly kind = 'timeout';
  readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
}

export const DEFAULT_CASE: DefaultCase = Object.freeze({ kind: 'default' as const });

/** What `select` returns: the index of the case that fired and its value. */
export interface SelectOutcome {
  readonly index: number;
  readonly value: unknown;
}

/** One channel case of a parked select, linked in that channel's recvq or sendq. */
class SelectNode implements Node, RecvNode<unknown>, SendNode<unknown> {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  readonly sel: SelectOp;
  readonly index: number;
  readonly ch: Channel<unknown>;
  readonly value: unknown;
  constructor(sel: SelectOp, index: number, ch: Channel<unknown>, value: unknown) {
    this.sel = sel;
    this.index = index;
    this.ch = ch;
    this.value = value;
  }
  deliver(v: unknown): void {
    this.sel.fire(this.index, v, this.ch);
  }
  recvClosed(): void {
    this.sel.fire(this.index, CLOSED, null);
  }
  taken(): void {
    this.sel.fire(this.index, undefined, null);
  }
  sendClosed(): void {
    this.sel.fail(new SendClosedError(this.value));
  }
}

export class SelectOp {
  st = S_START;
  readonly cases: readonly SelectCase[];
  private start = 0;
  private timeoutIndex = -1;
  private defaultIndex = -1;
  private deadline = 0;
  private sched: Scheduler | null = null;
  private nodes: SelectNode[] | null = null;
  private timer: TimerHandle | null = null;
  private resume: Resume<unknown> | null = null;
  /** The channel a parked receive case took a message from (given back on cancel). */
  private winCh: Channel<unknown> | null = null;
  private winMsg: unknown = undefined;

  constructor(cases: readonly SelectCase[]) {
    this.cases = cases;
  }

  [Symbol.iterator](): this {
    // Like a send, a select operation may run again once finished.
    if (this.st === S_DONE) {
      this.st = S_START;
      this.timeoutIndex = -1;
      this.defaultIndex = -1;
    } else if (this.st !== S_START) {
      throw alreadyRunning();
    }
    return this;
  }

  next(token?: unknown): Step<SelectOutcome> {
    switch (this.st) {
      case S_START:
        this.prepare();
        return enter(this);
      case S_YIELDED:
        return afterYield(this, token);
      case S_GRANTED:
      case S_RESUMED:
        this.st = S_DONE;
        this.winCh = null;
        this.winMsg = undefined;
        return takeResumed(token);
      default:
        throw alreadyRunning();
    }
  }

  /** Validate the cases, pick the rotation start, note the timeout and default cases. */
  private prepare(): void {
    const cases = this.cases;
    const n = cases.length;
    let first: Channel<unknown> | null = null;
    let minMs = Infinity;
    for (let i = 0; i < n; i++) {
      const c = cases[i] as SelectCase | null | undefined;
      if (c === null || typeof c !== 'object') {
        throw new InvalidArgumentError(
          `select case ${i} is not a select case; use ch.onRecv(), ch.onSend(v), onTimeout(ms) or onDefault()`,
        );
      }
      if (c.kind === 'recv' || c.kind === 'send') {
        if (!(c.channel instanceof Channel)) throw new InvalidArgumentError(`select case ${i} is not a case of a channel created by channel()`);
        first ??= c.channel as Channel<unknown>;
      } else if (c.kind === 'timeout') {
        const ms = c.ms;
        if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
          throw new InvalidArgumentError(`select timeout must be a number of milliseconds >= 0, got ${String(ms)}`);
        }
        if (ms < minMs) {
          minMs = ms;
          this.timeoutIndex = i;
        }
      } else if (c.kind === 'default') {
        if (this.defaultIndex >= 0) throw new InvalidArgumentError('select takes at most one onDefault() case');
        this.defaultIndex = i;
      } else {
        throw new InvalidArgumentError(
          `select case ${i} is not a select case; use ch.onRecv(), ch.onSend(v), onTimeout(ms) or onDefault()`,
        );
      }
    }
    if (n === 0) throw new InvalidArgumentError('select needs at least one case');
    if (first !== null) this.start = first.tick++ % n;
    if (this.timeoutIndex >= 0) {
      const s = useScheduler();
      this.sched = s;
      this.deadline = s.clock.now() + minMs;
    }
  }

  /** Fire the first ready channel case, scanning from the rotation start; null if none. */
  private scan(): SelectOutcome | null {
    const cases = this.cases;
    const n = cases.length;
    for (let k = 0; k < n; k++) {
      let i = this.start + k;
      if (i >= n) i -= n;
      const c = cases[i];
      if (c.kind === 'recv') {
        const v = (c.channel as Channel<unknown>).pollRecv();
        if (v !== EMPTY) return { index: i, value: v };
      } else if (c.kind === 'send') {
        const ch = c.channel as Channel<unknown>;
        if (ch.shut) throw new SendClosedError(c.value);
        if (ch.pollSend(c.value)) return { index: i, value: undefined };
      }
    }
    return null;
  }

  attempt(): Step<SelectOutcome> {
    let r: SelectOutcome | null;
    try {
      r = this.scan();
    } catch (e) {
      this.st = S_DONE;
      throw e;
    }
    if (r === null && this.defaultIndex >= 0) r = { index: this.defaultIndex, value: undefined };
    if (r !== null) {
      this.st = S_DONE;
      return ready(r);
    }
    return this.park(S_PARKING_TRIED);
  }

  park(st: number): Step<SelectOutcome> {
    this.st = st;
    parkingSelect = this;
    // Waiting on a channel fed from outside the runtime is waiting on the outside world.
    const cases = this.cases;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      if (c.kind === 'recv' || c.kind === 'send') {
        const ch = c.channel as Channel<unknown>;
        if (ch.external || ch.outside > 0) return SELECT_SUSPENSION_EXT;
      }
    }
    return SELECT_SUSPENSION;
  }

  /** Register: try once more (seeded scheduler), else link a node per channel case. */
  register(resume: Resume<unknown>): Teardown | void {
    if (this.st === S_PARKING_SYNC) {
      let r: SelectOutcome | null;
      try {
        r = this.scan();
      } catch (e) {
        this.st = S_RESUMED;
        resume.fail(e);
        return;
      }
      if (r === null && this.defaultIndex >= 0) r = { index: this.defaultIndex, value: undefined };
      if (r !== null) {
        this.st = S_RESUMED;
        resume.ok(r);
        return;
      }
    }
    parkedNow();
    this.st = S_QUEUED;
    this.resume = resume;
    const cases = this.cases;
    const nodes: SelectNode[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      if (c.kind === 'recv') {
        const node = new SelectNode(this, i, c.channel as Channel<unknown>, undefined);
        nodes.push(node);
        (c.channel as Channel<unknown>).recvq.push(node);
      } else if (c.kind === 'send') {
        const node = new SelectNode(this, i, c.channel as Channel<unknown>, c.value);
        nodes.push(node);
        (c.channel as Channel<unknown>).sendq.push(node);
      }
    }
    this.nodes = nodes;
    if (this.timeoutIndex >= 0) {
      this.timer = (this.sched as Scheduler).setTimer(this.deadline, () => this.fire(this.timeoutIndex, undefined, null));
    }
    return this; // its cancel() undoes the wait: no closure per park
  }

  private unlinkAll(): void {
    const nodes = this.nodes;
    if (nodes !== null) {
      this.nodes = null;
      for (const node of nodes) node.list?.remove(node);
    }
    const t = this.timer;
    if (t !== null) {
      this.timer = null;
      t.cancel();
    }
  }

  /** Case `index` completed with `value`; `from` is set when a message was handed over. */
  fire(index: number, value: unknown, from: Channel<unknown> | null): void {
    if (this.st !== S_QUEUED) return;
    this.unlinkAll();
    if (from !== null) {
      this.st = S_GRANTED;
      this.winCh = from;
      this.winMsg = value;
    } else {
      this.st = S_RESUMED;
    }
    const r = this.resume as Resume<unknown>;
    this.resume = null;
    r.ok({ index, value });
  }

  fail(e: unknown): void {
    if (this.st !== S_QUEUED) return;
    this.unlinkAll();
    this.st = S_RESUMED;
    const r = this.resume as Resume<unknown>;
    this.resume = null;
    r.fail(e);
  }

  /** Teardown of a park (core calls it when the fiber is cancelled first). */
  cancel(): void {
    this.cancelWait();
  }

  private cancelWait(): void {
    if (this.st !== S_QUEUED) return;
    this.st = S_DONE;
    this.unlinkAll();
    this.resume = null;
  }

  return(value?: unknown): IteratorResult<Instruction, SelectOutcome> {
    const st = this.st;
    this.st = S_DONE;
    if (st === S_GRANTED) {
      const ch = this.winCh as Channel<unknown>;
      const m = this.winMsg;
      this.winCh = null;
      this.winMsg = undefined;
      ch.unrecv(m);
    } else if (st === S_QUEUED) {
      this.unlinkAll();
      this.resume = null;
    }
    return returned(value as SelectOutcome);
  }

  throw(e: unknown): IteratorResult<Instruction, never> {
    this.return();
    throw e;
  }
}

function registerSelect(resume: Resume<unknown>): Teardown | void {
  const s = parkingSelect as SelectOp;
  parkingSelect = null;
  return s.register(resume);
}

const SELECT_SUSPENSION = suspend(registerSelect, { reason: SELECT, internal: true }) as Suspension<unknown>;
const SELECT_SUSPENSION_EXT = suspend(registerSelect, { reason: SELECT }) as Suspension<unknown>;

// Pin the maps of the hot records (see maps.ts).
{
  const ch = new Channel<unknown>(0, undefined, false);
  const unbounded = new Channel<unknown>(Infinity, 'pinned', true);
  ch.recvOrClosed();
  ch.onRecv();
  const send = new SendOp<unknown>(ch, 0.5);
  generalize(send, 'value');
  const recv = new RecvWaiter<unknown>(ch, false, S_DONE);
  generalize(recv, 'msg');
  const sel = new SelectOp([]);
  generalize(sel, 'winMsg', 'deadline');
  const node = new SelectNode(sel, 0, ch, 0.5);
  generalize(node, 'value');
  pinMaps(ch, unbounded, send, recv, sel, node, new OutsideRecv<unknown>(() => {}), new TimeoutCaseImpl(0.5));
}
