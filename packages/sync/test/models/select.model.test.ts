/**
 * Model-based test of select over several channels (fast-check).
 *
 * Three channels of capacity 0, 1 or 2. The reference model gives each channel a FIFO
 * buffer, a FIFO of parked receivers and a FIFO of parked senders; a parked select sits
 * in the queue of every channel it has a case on (in case order) and leaves all of them
 * when one case fires. The moves are the channel's documented ones: a send goes to the
 * first parked receiver, else into the buffer if there is room, else parks; a receive
 * takes the buffer head (refilling the buffer from the first parked sender), else the
 * first parked sender's value, else parks; a receiver cancelled after it was handed a
 * message gives it back to the head of the channel; close fails parked senders and
 * wakes parked receivers (CLOSED once drained).
 *
 * select itself is not deterministic (the scan starts at a rotating position), so the
 * model checks the case the real select took against the cases that were ready, then
 * applies that one: a select that finds ready cases must take one of them (or throw
 * SendClosedError if it has a send case on a closed channel), with nothing ready it
 * takes its default or parks.
 *
 * Commands: spawn a plain sender / receiver, spawn a select over 1-3 recv/send cases
 * (with or without default), trySend / tryRecv, a select with default from the test
 * fiber, close, cancel a parked fiber, trySend / tryRecv then cancel the fiber it just
 * completed before it runs (a receiver gives the message back; a sender stays sent),
 * with up to two more trySend / tryRecv before that fiber runs.
 *
 * Checked after every step: each channel's `size` and `closed`, every fiber's outcome
 * (which case, which value), the results of the test's own operations; at the end the
 * buffers' contents in order, and, independently of the model, that every value whose
 * send completed was received exactly once and no other value was received.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTest, spawn, type Task } from '@rioco/core';
import { channel, select, onDefault, CLOSED, EMPTY, ChannelClosedError, SendClosedError, type Channel, type SelectCase } from '@rioco/sync';
import { MODEL_RUNS, settle, counts } from '../helpers.js';

const NCH = 3;

type CaseSpec = { kind: 'recv'; c: number } | { kind: 'send'; c: number };
type Cmd =
  | { t: 'spawnSend'; c: number }
  | { t: 'spawnRecv'; c: number }
  | { t: 'spawnSelect'; cases: CaseSpec[]; dflt: boolean }
  | { t: 'trySend'; c: number }
  | { t: 'tryRecv'; c: number }
  | { t: 'testSelect'; cases: CaseSpec[] }
  | { t: 'close'; c: number }
  | { t: 'cancel'; i: number }
  | { t: 'tryCancel'; send: boolean; c: number; extra: number };

const ch = fc.nat(NCH - 1);
const caseArb: fc.Arbitrary<CaseSpec> = fc.record({ kind: fc.constantFrom<'recv' | 'send'>('recv', 'send'), c: ch });
const casesArb = fc.array(caseArb, { minLength: 1, maxLength: 3 });

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: ch.map((c) => ({ t: 'spawnSend' as const, c })) },
  { weight: 3, arbitrary: ch.map((c) => ({ t: 'spawnRecv' as const, c })) },
  { weight: 6, arbitrary: fc.record({ cases: casesArb, dflt: fc.constantFrom(false, false, false, true) }).map((r) => ({ t: 'spawnSelect' as const, ...r })) },
  { weight: 2, arbitrary: ch.map((c) => ({ t: 'trySend' as const, c })) },
  { weight: 2, arbitrary: ch.map((c) => ({ t: 'tryRecv' as const, c })) },
  { weight: 2, arbitrary: casesArb.map((cases) => ({ t: 'testSelect' as const, cases })) },
  { weight: 1, arbitrary: ch.map((c) => ({ t: 'close' as const, c })) },
  { weight: 2, arbitrary: fc.nat(20).map((i) => ({ t: 'cancel' as const, i })) },
  { weight: 3, arbitrary: fc.record({ send: fc.boolean(), c: ch, extra: fc.nat(2) }).map((r) => ({ t: 'tryCancel' as const, ...r })) },
);

/** A parked operation: fiber `k`, case `i` of its select (-1: a plain send or receive). */
interface QNode {
  k: number;
  i: number;
}
interface SendQNode extends QNode {
  v: number;
}
interface ChanModel {
  cap: number;
  buf: number[];
  recvq: QNode[];
  sendq: SendQNode[];
  closed: boolean;
}
/** A fiber completed by the last operation: `got` is the value handed to a receiver. */
interface Completed {
  k: number;
  i: number;
  c: number;
  got?: number;
}

class SelectModel {
  chans: ChanModel[];
  /** Per fiber: 'pending' while parked, then its outcome (see `outcome` in the test). */
  out: string[] = [];
  completed: Completed[] = [];

  constructor(caps: number[]) {
    this.chans = caps.map((cap) => ({ cap, buf: [], recvq: [], sendq: [], closed: false }));
  }

  /** Fiber `node.k` completes: leave every queue (a select leaves all its cases). */
  private complete(node: QNode, c: number, what: string, got?: number): void {
    for (const m of this.chans) {
      m.recvq = m.recvq.filter((n) => n.k !== node.k);
      m.sendq = m.sendq.filter((n) => n.k !== node.k);
    }
    this.out[node.k] = node.i < 0 || what.startsWith('threw') ? what : `case ${node.i} ${what}`;
    this.completed.push({ k: node.k, i: node.i, c, got });
  }
  pollRecv(c: number): number | 'empty' | 'closed' {
    const m = this.chans[c];
    if (m.buf.length > 0) {
      const v = m.buf.shift()!;
      if (m.sendq.length > 0 && m.buf.length < m.cap) {
        const s = m.sendq[0];
        m.buf.push(s.v);
        this.complete(s, c, 'sent');
      }
      return v;
    }
    if (m.sendq.length > 0) {
      const s = m.sendq[0];
      this.complete(s, c, 'sent');
      return s.v;
    }
    return m.closed ? 'closed' : 'empty';
  }
  /** A send on an open channel: true if it completed at once. */
  pollSend(c: number, v: number): boolean {
    const m = this.chans[c];
    if (m.recvq.length > 0) {
      this.complete(m.recvq[0], c, `got ${v}`, v);
      return true;
    }
    if (m.buf.length < m.cap) {
      m.buf.push(v);
      return true;
    }
    return false;
  }
  /** A receiver cancelled after it was handed `v` gives it back to the head of `c`. */
  unrecv(c: number, v: number): void {
    const m = this.chans[c];
    if (m.recvq.length > 0) this.complete(m.recvq[0], c, `got ${v}`, v);
    else m.buf.unshift(v);
  }
  close(c: number): void {
    const m = this.chans[c];
    if (m.closed) return;
    m.closed = true;
    while (m.recvq.length > 0) this.complete(m.recvq[0], c, 'closed');
    while (m.sendq.length > 0) {
      const s = m.sendq[0];
      this.complete(s, c, s.i < 0 ? `refused ${s.v}` : `threw ${s.v}`);
    }
  }
  cancel(k: number): void {
    for (const m of this.chans) {
      m.recvq = m.recvq.filter((n) => n.k !== k);
      m.sendq = m.sendq.filter((n) => n.k !== k);
    }
    this.out[k] = 'cancelled';
  }
  parked(): number[] {
    return this.out.flatMap((o, k) => (o === 'pending' ? [k] : []));
  }

  /**
   * Arrival of a select (fiber `k`, -1 for the test) whose cases carry their values;
   * `real` is what the real select did ('pending' if it parked). Checks `real` is
   * allowed, applies it, and returns the outcome the model expects.
   */
  select(k: number, cases: (CaseSpec & { v: number })[], dflt: boolean, real: string): string {
    const ready: number[] = [];
    const throws: number[] = [];
    cases.forEach((cs, i) => {
      const m = this.chans[cs.c];
      if (cs.kind === 'recv') {
        if (m.buf.length > 0 || m.sendq.length > 0 || m.closed) ready.push(i);
      } else if (m.closed) throws.push(cs.v);
      else if (m.recvq.length > 0 || m.buf.length < m.cap) ready.push(i);
    });
    if (ready.length === 0 && throws.length === 0) {
      if (dflt) return `case ${cases.length} default`;
      if (k < 0) throw new Error('model broken: the test select would park');
      cases.forEach((cs, i) => {
        const m = this.chans[cs.c];
        if (cs.kind === 'recv') m.recvq.push({ k, i });
        else m.sendq.push({ k, i, v: cs.v });
      });
      return 'pending';
    }
    const th = /^threw (\d+)$/.exec(real);
    if (th !== null) {
      expect(throws, `select threw for ${th[1]}`).toContain(Number(th[1]));
      return real;
    }
    const m = /^case (\d+) /.exec(real);
    const i = m === null ? -1 : Number(m[1]);
    expect(ready, `select took ${real}; ready cases`).toContain(i);
    const cs = cases[i];
    if (cs.kind === 'send') {
      this.pollSend(cs.c, cs.v);
      return `case ${i} sent`;
    }
    const v = this.pollRecv(cs.c);
    return `case ${i} ${v === 'closed' ? 'closed' : `got ${v}`}`;
  }
}

/** What a select result means, as the model writes it. */
function outcome(r: { index: number; value: unknown }, cases: readonly SelectCase[]): string {
  const c = cases[r.index];
  if (c.kind === 'default') return `case ${r.index} default`;
  if (c.kind === 'send') return `case ${r.index} sent`;
  return `case ${r.index} ${r.value === CLOSED ? 'closed' : `got ${String(r.value)}`}`;
}

describe('select model-based (fast-check)', () => {
  it('chosen cases were ready, nothing lost or duplicated, FIFO per channel', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(0, 1, 2), { minLength: NCH, maxLength: NCH }),
        fc.array(cmdArb, { maxLength: 50, size: 'max' }),
        async (caps, cmds) => {
          await runTest(function* () {
            const chans: Channel<number>[] = caps.map((cap) => channel<number>(cap));
            const model = new SelectModel(caps);
            const tasks: Task<void>[] = [];
            const out: string[] = [];
            // Independent ledger: values whose send completed, values received.
            const sent: number[] = [];
            const received: number[] = [];
            let nextV = 100;
            const sendValue = new Map<string, number>(); // `${fiber}:${case}` (case -1: plain send)

            const record = (k: number, o: string): void => {
              out[k] = o;
              const got = /got (\d+)$/.exec(o);
              if (got !== null) received.push(Number(got[1]));
            };
            const newFiber = (body: (k: number) => Generator<unknown, void, unknown>): number => {
              const k = out.length;
              out.push('pending');
              model.out.push('pending');
              tasks.push(
                spawn(function* () {
                  try {
                    yield* body(k) as Generator<never, void, unknown>;
                  } finally {
                    if (out[k] === 'pending') out[k] = 'cancelled';
                  }
                }),
              );
              return k;
            };
            const realCases = (specs: (CaseSpec & { v: number })[]): SelectCase[] =>
              specs.map((s) => (s.kind === 'recv' ? chans[s.c].onRecv() : chans[s.c].onSend(s.v)));
            const withValues = (specs: CaseSpec[]): (CaseSpec & { v: number })[] => specs.map((s) => ({ ...s, v: nextV++ }));
            const tryRecv = (c: number): string => {
              const v = chans[c].tryRecv();
              if (v === CLOSED) return 'closed';
              if (v === EMPTY) return 'empty';
              received.push(v);
              return String(v);
            };
            const trySend = (c: number, v: number): string => {
              try {
                const ok = chans[c].trySend(v);
                if (ok) sent.push(v);
                return String(ok);
              } catch (e) {
                if (e instanceof SendClosedError) return 'refused';
                throw e;
              }
            };
            const modelTrySend = (c: number, v: number): string => (model.chans[c].closed ? 'refused' : String(model.pollSend(c, v)));
            const modelTryRecv = (c: number): string => String(model.pollRecv(c));

            for (const cmd of cmds) {
              model.completed = [];
              switch (cmd.t) {
                case 'spawnSend': {
                  const v = nextV++;
                  const c = cmd.c;
                  sendValue.set(`${out.length}:-1`, v);
                  const k = newFiber(function* (k) {
                    try {
                      yield* chans[c].send(v);
                      record(k, 'sent');
                    } catch (e) {
                      if (!(e instanceof SendClosedError)) throw e;
                      record(k, `refused ${String(e.intoInner())}`);
                    }
                  });
                  const m = model.chans[c];
                  if (m.closed) model.out[k] = `refused ${v}`;
                  else if (model.pollSend(c, v)) model.out[k] = 'sent';
                  else m.sendq.push({ k, i: -1, v });
                  break;
                }
                case 'spawnRecv': {
                  const c = cmd.c;
                  const k = newFiber(function* (k) {
                    try {
                      record(k, `got ${yield* chans[c].recv()}`);
                    } catch (e) {
                      if (!(e instanceof ChannelClosedError)) throw e;
                      record(k, 'closed');
                    }
                  });
                  const v = model.pollRecv(c);
                  if (v === 'empty') model.chans[c].recvq.push({ k, i: -1 });
                  else model.out[k] = v === 'closed' ? 'closed' : `got ${v}`;
                  break;
                }
                case 'spawnSelect': {
                  const specs = withValues(cmd.cases);
                  const cases = realCases(specs);
                  if (cmd.dflt) cases.push(onDefault());
                  specs.forEach((sp, i) => sendValue.set(`${out.length}:${i}`, sp.v));
                  const k = newFiber(function* (k) {
                    try {
                      record(k, outcome(yield* select(...cases), cases));
                    } catch (e) {
                      if (!(e instanceof SendClosedError)) throw e;
                      record(k, `threw ${String(e.intoInner())}`);
                    }
                  });
                  yield* settle(); // the select runs; the model then checks what it did
                  model.out[k] = model.select(k, specs, cmd.dflt, out[k]);
                  break;
                }
                case 'testSelect': {
                  const specs = withValues(cmd.cases);
                  const cases = [...realCases(specs), onDefault()];
                  let real: string;
                  try {
                    real = outcome(yield* select(...cases), cases);
                    const got = /got (\d+)$/.exec(real);
                    if (got !== null) received.push(Number(got[1]));
                  } catch (e) {
                    if (!(e instanceof SendClosedError)) throw e;
                    real = `threw ${String(e.intoInner())}`;
                  }
                  expect(real).toBe(model.select(-1, specs, true, real));
                  const sentCase = /^case (\d+) sent$/.exec(real);
                  if (sentCase !== null) sent.push(specs[Number(sentCase[1])].v);
                  break;
                }
                case 'trySend': {
                  const v = nextV++;
                  expect(trySend(cmd.c, v)).toBe(modelTrySend(cmd.c, v));
                  break;
                }
                case 'tryRecv':
                  expect(tryRecv(cmd.c)).toBe(modelTryRecv(cmd.c));
                  break;
                case 'close':
                  chans[cmd.c].close();
                  model.close(cmd.c);
                  break;
                case 'cancel': {
                  const parked = model.parked();
                  if (parked.length === 0) break;
                  const k = parked[cmd.i % parked.length];
                  tasks[k].cancel();
                  model.cancel(k);
                  break;
                }
                case 'tryCancel': {
                  // Complete a parked fiber from the test, then cancel it before it runs.
                  if (cmd.send) {
                    const v = nextV++;
                    expect(trySend(cmd.c, v)).toBe(modelTrySend(cmd.c, v));
                  } else {
                    expect(tryRecv(cmd.c)).toBe(modelTryRecv(cmd.c));
                  }
                  const done = model.completed[0];
                  if (done === undefined) break;
                  tasks[done.k].cancel();
                  model.out[done.k] = 'cancelled';
                  // More of the same before the cancelled fiber runs (so a message given
                  // back must go in front of ones sent after it).
                  for (let n = 0; n < cmd.extra; n++) {
                    if (cmd.send) {
                      const v = nextV++;
                      expect(trySend(cmd.c, v)).toBe(modelTrySend(cmd.c, v));
                    } else {
                      expect(tryRecv(cmd.c)).toBe(modelTryRecv(cmd.c));
                    }
                  }
                  if (done.got !== undefined) {
                    model.unrecv(done.c, done.got); // a receiver gives the message back
                  } else {
                    sent.push(sendValue.get(`${done.k}:${done.i}`)!); // a sender whose value was taken stays sent
                  }
                  break;
                }
              }
              yield* settle();

              for (let c = 0; c < NCH; c++) {
                expect(chans[c].size, `size of channel ${c}`).toBe(model.chans[c].buf.length);
                expect(chans[c].closed).toBe(model.chans[c].closed);
              }
              expect(out).toEqual(model.out);
            }

            // Parked fibers leave (nothing sent, nothing taken); then drain: the buffers hold
            // exactly what the model says, in order.
            for (const t of tasks) yield* t.halt();
            for (let c = 0; c < NCH; c++) {
              const rest: number[] = [];
              for (let v = chans[c].tryRecv(); v !== EMPTY && v !== CLOSED; v = chans[c].tryRecv()) rest.push(v);
              received.push(...rest);
              expect(rest, `buffer of channel ${c}`).toEqual(model.chans[c].buf);
            }
            // Every completed send, whoever made it, was received exactly once.
            for (const [k, o] of out.entries()) {
              if (o === 'sent') sent.push(sendValue.get(`${k}:-1`)!);
              const sc = /^case (\d+) sent$/.exec(o);
              if (sc !== null) sent.push(sendValue.get(`${k}:${sc[1]}`)!);
            }
            for (const [v, n] of counts(received)) expect(n, `value ${v} received`).toBe(1);
            expect([...received].sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b));
          });
        },
      ),
      { numRuns: MODEL_RUNS },
    );
  });
});
