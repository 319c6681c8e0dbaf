/**
 * Shared test helpers. RIOCO_SEEDS sets how many seeds each seeded test explores
 * (300 by default; `pnpm test:nightly` sets 10000). A value that is not a positive
 * integer stops the run instead of exploring no seed at all.
 */
import { suspend, yieldNow, type Operation, type Resume } from '@rioco/core';
import { seedCount } from '@rioco/tooling/seeds';

export const SEEDS = seedCount(process.env.RIOCO_SEEDS, 300);
/** fast-check runs per model-based property (scaled with RIOCO_SEEDS). */
export const MODEL_RUNS = Math.max(100, Math.floor(SEEDS / 2));

/** Let every ready fiber run until things settle (each round gives wakeups one hop). */
export function* settle(rounds = 12): Operation<void> {
  for (let i = 0; i < rounds; i++) yield* yieldNow();
}

/** A one-shot gate built on core's suspend only (not on the primitives under test). */
export class Gate {
  private waiters: Resume<void>[] = [];
  private opened = false;
  *wait(): Operation<void> {
    if (this.opened) return;
    yield* suspend<void>(
      (r) => {
        this.waiters.push(r);
        return () => {
          const i = this.waiters.indexOf(r);
          if (i >= 0) this.waiters.splice(i, 1);
        };
      },
      { reason: 'test.gate', internal: true },
    );
  }
  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w.ok();
  }
}

/** A small deterministic PRNG for choices a seeded test makes (mulberry32). */
export function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Count occurrences, for exactly-once checks. */
export function counts<T>(xs: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Run `op` and return the error it threw (or undefined). */
export function* catchOp(op: Operation<unknown>): Operation<unknown> {
  try {
    yield* op;
    return undefined;
  } catch (e) {
    return e;
  }
}
