import { describe, it, expect } from 'vitest';
import { seedCount } from '@rioco/tooling/seeds';
import { forEachSeed, spawn, suspend, supervisor, yieldNow, FiberLocal, type Operation, type Resume, type Task } from '@rioco/core';

const SEEDS = seedCount(process.env.RIOCO_SEEDS, 200);

describe('invariants under the seeded scheduler', () => {
  it('a parent finishes after all its children, at every depth', async () => {
    const exits: number[] = [];
    const parentOf = new Map<number, number>();
    await forEachSeed(
      SEEDS,
      function* () {
        exits.length = 0;
        parentOf.clear();
        function* node(depth: number): Operation<void> {
          for (let i = 0; i < 2 && depth > 0; i++) spawn(node(depth - 1));
          yield* yieldNow();
        }
        yield* spawn(node(3));
        // Every fiber exits after all of its children (15 fibers in the tree).
        expect(exits).toHaveLength(15);
        for (const [child, parent] of parentOf) {
          if (exits.includes(parent)) expect(exits.indexOf(child)).toBeLessThan(exits.indexOf(parent));
        }
      },
      {
        hooks: {
          spawn: (f) => parentOf.set(f.id, f.parentId),
          exit: (f) => exits.push(f.id),
        },
      },
    );
  });

  it('fail-fast: the first error wins, every sibling is cleaned up exactly once', async () => {
    await forEachSeed(SEEDS, function* () {
      const cleaned = new Map<number, number>();
      const started = new Set<number>();
      const result = yield* supervisor(function* () {
        const group = spawn(function* () {
          for (let i = 0; i < 4; i++) {
            spawn(function* () {
              started.add(i);
              try {
                for (let k = 0; k < i + 1; k++) yield* yieldNow();
                if (i === 1) throw new Error(`child ${i} failed`);
                yield* suspend<void>(() => {}, { internal: true });
              } finally {
                cleaned.set(i, (cleaned.get(i) ?? 0) + 1);
              }
            });
          }
        });
        try {
          yield* group;
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      });
      expect(result).toBe('child 1 failed');
      // Children that started ran their cleanup exactly once; unstarted ones never ran.
      expect([...cleaned.keys()].sort()).toEqual([...started].sort());
      for (const n of cleaned.values()) expect(n).toBe(1);
      expect(started.has(1)).toBe(true);
    });
  });

  it('no lost wakeup: every resume reaches its fiber exactly once', async () => {
    await forEachSeed(SEEDS, function* () {
      const waiters: Resume<number>[] = [];
      let got = 0;
      const ts: Task<void>[] = [];
      for (let i = 0; i < 6; i++) {
        ts.push(
          spawn(function* () {
            const v = yield* suspend<number>((r) => { waiters.push(r); }, { internal: true });
            got += v;
          }),
        );
      }
      const waker = spawn(function* () {
        let woken = 0;
        while (woken < 6) {
          const w = waiters.shift();
          if (w) {
            w.ok(1);
            w.ok(100); // a second resume must be ignored
            woken++;
          }
          yield* yieldNow();
        }
      });
      for (const t of ts) yield* t;
      yield* waker;
      expect(got).toBe(6);
    });
  });

  it('fiber-locals are inherited at spawn time whatever the interleaving', async () => {
    const local = new FiberLocal<number>('n', -1);
    await forEachSeed(SEEDS, function* () {
      const seen: number[] = [];
      const ts: Task<void>[] = [];
      for (let i = 0; i < 4; i++) {
        local.set(i);
        ts.push(
          spawn(function* () {
            yield* yieldNow();
            seen[i] = local.get();
          }),
        );
      }
      for (const t of ts) yield* t;
      expect(seen).toEqual([0, 1, 2, 3]);
    });
  });
});
