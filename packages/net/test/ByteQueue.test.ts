import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ByteQueue } from '../src/internal/ByteQueue.js';

describe('ByteQueue (internal)', () => {
  it('behaves like one flat byte array under any mix of push, unshift, shift, take, indexOf and at', () =>
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('push' as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
            fc.record({ op: fc.constant('unshift' as const), bytes: fc.uint8Array({ maxLength: 10 }) }),
            fc.record({ op: fc.constant('shift' as const) }),
            fc.record({ op: fc.constant('take' as const), n: fc.integer({ min: 1, max: 60 }) }),
            fc.record({ op: fc.constant('indexOf' as const), byte: fc.integer({ min: 0, max: 3 }), from: fc.nat(50) }),
            fc.record({ op: fc.constant('at' as const), i: fc.nat(60) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const q = new ByteQueue();
          let model = Buffer.alloc(0);
          for (const o of ops) {
            if (o.op === 'push') {
              q.push(Buffer.from(o.bytes));
              model = Buffer.concat([model, o.bytes]);
            } else if (o.op === 'unshift') {
              q.unshift(Buffer.from(o.bytes));
              model = Buffer.concat([o.bytes, model]);
            } else if (o.op === 'shift') {
              if (q.length === 0) continue;
              const c = q.shift();
              expect(c.length).toBeGreaterThan(0);
              expect(c.equals(model.subarray(0, c.length))).toBe(true);
              model = model.subarray(c.length);
            } else if (o.op === 'take') {
              if (o.n > q.length) continue;
              expect(q.take(o.n).equals(model.subarray(0, o.n))).toBe(true);
              model = model.subarray(o.n);
            } else if (o.op === 'at') {
              if (o.i >= q.length) continue;
              expect(q.at(o.i)).toBe(model[o.i]);
            } else {
              const want = model.indexOf(o.byte, o.from);
              expect(q.indexOf(o.byte, o.from)).toBe(o.from >= model.length ? -1 : want);
            }
            expect(q.length).toBe(model.length);
          }
        },
      ),
      { numRuns: 300 },
    ));
});
