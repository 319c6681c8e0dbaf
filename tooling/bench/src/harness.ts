/**
 * Bench harness: every suite measures its rows side by side in one process and one run,
 * and prints each as a ratio to a named baseline row, because absolute numbers on a
 * shared 2-core VM drift by ±20% between runs while ratios measured together do not.
 */
import { performance } from 'node:perf_hooks';

export interface Row {
  name: string;
  /** Median of the runs, in `unit`. */
  value: number;
  unit: string;
  /** Extra columns (p99, memory, …) printed as given. */
  extra?: Record<string, string | number>;
}

export interface MeasureOptions {
  /** Timed runs; the median is reported. Default 7. */
  runs?: number;
  /** Untimed warm-up runs. Default 2. */
  warmup?: number;
  /**
   * Force a full GC before each timed run. Default false: a forced full GC makes V8
   * drop optimized code and hidden classes of whatever has no live instance at that
   * moment, which no running program does to itself.
   */
  gc?: boolean;
}

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

/**
 * Time `fn(iterations)` and return the median nanoseconds per iteration.
 * `fn` does `iterations` operations (it may be async).
 */
export async function measure(
  fn: (iterations: number) => unknown,
  iterations: number,
  options: MeasureOptions = {},
): Promise<number> {
  const runs = options.runs ?? 7;
  const warmup = options.warmup ?? 2;
  for (let i = 0; i < warmup; i++) await fn(iterations);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (options.gc) gc?.();
    const t0 = performance.now();
    await fn(iterations);
    samples.push(((performance.now() - t0) * 1e6) / iterations);
  }
  return median(samples);
}

/** Heap bytes retained per item while `hold(count)` keeps `count` items alive. Needs --expose-gc. */
export async function bytesPer(hold: (count: number) => Promise<() => unknown>, count: number): Promise<number> {
  if (!gc) throw new Error('run node with --expose-gc to measure memory');
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const release = await hold(count);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  await release();
  return (after - before) / count;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Print a suite: one row each, with the ratio to `baseline` (lower is better unless `higherIsBetter`). */
export function report(title: string, rows: Row[], baseline: string, higherIsBetter = false): void {
  const base = rows.find((r) => r.name === baseline);
  const w = Math.max(...rows.map((r) => r.name.length), 8);
  console.log(`\n## ${title}  (ratio vs ${baseline}${higherIsBetter ? ', higher is better' : ', lower is better'})`);
  for (const r of rows) {
    const ratio = base ? r.value / base.value : NaN;
    const extra = r.extra ? '  ' + Object.entries(r.extra).map(([k, v]) => `${k}=${v}`).join('  ') : '';
    console.log(`${r.name.padEnd(w)}  ${fmt(r.value).padStart(10)} ${r.unit.padEnd(6)} ${ratio.toFixed(2).padStart(6)}x${extra}`);
  }
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
