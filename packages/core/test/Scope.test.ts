import { describe, it, expect } from 'vitest';
import { createScope, runTest, useScope, suspend, yieldNow, spawn, type Task } from '@rioco/core';

describe('scopes', () => {
  it('useScope spawns children of the current fiber from a callback', async () => {
    const seen: number[] = [];
    await runTest(function* () {
      const scope = useScope();
      const tasks: Task<number>[] = [];
      yield* suspend<void>((resume) => {
        setImmediate(() => {
          // Outside any fiber: plain spawn() would throw here.
          expect(() => spawn(function* () {})).toThrowError(expect.objectContaining({ code: 'NO_CURRENT_FIBER' }));
          for (let i = 0; i < 3; i++) {
            tasks.push(
              scope.spawn(function* () {
                yield* yieldNow();
                seen.push(i);
                return i * 10;
              }),
            );
          }
          resume.ok();
        });
      });
      let sum = 0;
      for (const t of tasks) sum += yield* t;
      expect(sum).toBe(30);
    });
    expect(seen.sort()).toEqual([0, 1, 2]);
  });

  it('createScope runs fibers for code outside Rioco; close() cancels them and waits for cleanup', async () => {
    const log: string[] = [];
    const scope = createScope();
    const quick = scope.spawn(function* () {
      return 'quick';
    });
    expect(await quick).toBe('quick');
    scope.spawn(function* () {
      try {
        yield* suspend<void>(() => {}, { internal: true });
      } finally {
        yield* yieldNow();
        log.push('cleaned up');
      }
    });
    await new Promise((r) => setImmediate(r));
    expect(scope.active).toBe(true);
    await scope.close();
    expect(log).toEqual(['cleaned up']);
    expect(scope.active).toBe(false);
    expect(() => scope.spawn(function* () {})).toThrowError(expect.objectContaining({ code: 'SCOPE_CLOSED' }));
  });

  it('await using closes the scope at the end of the block', async () => {
    const log: string[] = [];
    {
      await using scope = createScope();
      scope.spawn(function* () {
        try {
          yield* suspend<void>(() => {}, { internal: true });
        } finally {
          log.push('closed by await using');
        }
      });
      await new Promise((r) => setImmediate(r));
    }
    expect(log).toEqual(['closed by await using']);
  });

  it('a failing child fails the scope: close() rejects with its error', async () => {
    const scope = createScope();
    const boom = new Error('boom');
    scope.spawn(function* () {
      yield* yieldNow();
      throw boom;
    });
    await new Promise((r) => setImmediate(r));
    expect(scope.active).toBe(false);
    await expect(scope.close()).rejects.toBe(boom);
  });
});
