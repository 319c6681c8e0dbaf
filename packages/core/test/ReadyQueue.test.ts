import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { AGING_STEP, PriorityQueue } from '../src/internal/readyQueue.js';

interface Item {
  priority: number;
  id: number;
}

/**
 * The reference: every queued item with its level, its push order and its aging stamp.
 * While one level alone has items they go in FIFO order and carry no stamp; when a
 * second level arrives, the waiting ones count as queued from that pop count on.
 */
class Model {
  items: { item: Item; seq: number; stamp: number }[] = [];
  tick = 0;
  seq = 0;

  private levels(): Set<number> {
    return new Set(this.items.map((e) => e.item.priority));
  }

  push(item: Item): void {
    const levels = this.levels();
    if (levels.size === 1 && !levels.has(item.priority)) {
      for (const e of this.items) e.stamp = this.tick;
    }
    this.items.push({ item, seq: this.seq++, stamp: this.tick });
  }

  shift(): Item | undefined {
    if (this.items.length === 0) return undefined;
    const levels = this.levels();
    let pick: (typeof this.items)[number];
    const firstOf = (l: number) => this.items.filter((e) => e.item.priority === l).sort((a, b) => a.seq - b.seq)[0];
    if (levels.size === 1) {
      pick = firstOf([...levels][0]);
    } else {
      this.tick++;
      let best = -Infinity;
      pick = this.items[0];
      for (const l of [...levels].sort((a, b) => b - a)) {
        const head = firstOf(l);
        const score = l + (this.tick - head.stamp) / AGING_STEP;
        if (score > best) {
          best = score;
          pick = head;
        }
      }
    }
    this.items.splice(this.items.indexOf(pick), 1);
    return pick.item;
  }
}

describe('PriorityQueue', () => {
  it('pops what the reference model pops, over random pushes and pops', () => {
    // Mostly two neighbouring levels, so aging decides often; pops as often as pushes.
    const op = fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 1 }).map((p) => ({ push: p })), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 7 }).map((p) => ({ push: p })), weight: 1 },
      { arbitrary: fc.constant({ push: -1 }), weight: 5 },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const q = new PriorityQueue<Item>();
        const m = new Model();
        let id = 0;
        for (const o of ops) {
          if (o.push >= 0) {
            const item = { priority: o.push, id: id++ };
            q.push(item);
            m.push(item);
          } else {
            expect(q.shift()).toBe(m.shift());
          }
          expect(q.size).toBe(m.items.length);
        }
        // Drain: the same order to the end.
        for (let x = m.shift(); x !== undefined; x = m.shift()) expect(q.shift()).toBe(x);
        expect(q.shift()).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('a low level waits a bounded number of pops behind a higher level kept busy', () => {
    const q = new PriorityQueue<Item>();
    // Solo mode on the high level for a while, then one low item arrives.
    for (let i = 0; i < 8; i++) q.push({ priority: 7, id: i });
    for (let i = 0; i < 100; i++) q.push(q.shift() as Item);
    const low = { priority: 0, id: -1 };
    q.push(low);
    let pops = 0;
    for (;;) {
      const x = q.shift() as Item;
      pops++;
      if (x === low) break;
      q.push(x); // the high level stays busy
      expect(pops).toBeLessThan(1000);
    }
    // Seven levels of difference, one per AGING_STEP pops counted from its arrival, plus
    // what the high heads have waited themselves (at most the 8 queued ahead of them).
    expect(pops).toBeGreaterThan(7 * AGING_STEP);
    expect(pops).toBeLessThanOrEqual(7 * AGING_STEP + 8 + 1);
  });

  it('counts a fiber as waiting from when a second level arrives, not from earlier competition', () => {
    const q = new PriorityQueue<Item>();
    // A long competition moves the pop count far on and leaves stamps in the rings.
    q.push({ priority: 0, id: 0 });
    for (let i = 0; i < 100; i++) {
      q.push({ priority: 1, id: 1 + i });
      q.shift();
    }
    while (q.shift() !== undefined);
    // Now a lone level-0 fiber, then a level-1 one: the higher level goes first, as the
    // lone one has not waited behind anything yet.
    const a = { priority: 0, id: 1000 };
    const b = { priority: 1, id: 1001 };
    q.push(a);
    q.push(b);
    expect(q.shift()).toBe(b);
    expect(q.shift()).toBe(a);
  });

  it('goes back to FIFO order once one level is left', () => {
    const q = new PriorityQueue<Item>();
    const a = { priority: 3, id: 1 };
    const b = { priority: 5, id: 2 };
    const c = { priority: 3, id: 3 };
    q.push(a);
    q.push(b);
    q.push(c);
    expect(q.shift()).toBe(b);
    const d = { priority: 3, id: 4 };
    q.push(d);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([a, c, d, undefined]);
  });
});
