import { describe, it, expect } from 'vitest';
import { run, spawn, yieldNow, suspend, type Operation } from '@rioco/core';

describe('smoke', () => {
  it('runs and joins', async () => {
    const v = await run(function* (): Operation<number> {
      const a = spawn(function* () {
        yield* yieldNow();
        return 1;
      });
      const b = spawn(function* () {
        return 2;
      });
      return (yield* a) + (yield* b);
    });
    expect(v).toBe(3);
  });
  it('suspend with external resume', async () => {
    const v = await run(function* () {
      return yield* suspend<number>((r) => {
        setImmediate(() => r.ok(7));
      });
    });
    expect(v).toBe(7);
  });
});
