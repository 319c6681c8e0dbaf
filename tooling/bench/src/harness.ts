/**
 * Bench harness: every suite measures its rows side by side in one run and prints each
 * as a ratio to a named baseline row, because absolute numbers on a shared 2-core VM
 * drift by ±20% between runs while ratios measured together do not.
 *
 * Each row runs in a fresh process (see {@link runSuite}): rows measured one after the
 * other in one process leak JIT state (inline caches made polymorphic by an earlier
 * row, code deoptimized by its GC) and heap (grown pools, old-space garbage) into the
 * next, which moved single rows by 2–4× between orderings here. Rounds interleave the
 * rows, so drift of the machine hits every row alike, and the median round is reported.
 */
import { spawnSync } from 'node:child_process';
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

/**
 * Heap bytes retained per item while `hold(count)` keeps `count` items alive. Needs
 * --expose-gc, and a fresh process (the suites run every row in one): the heap is read
 * after a full GC before the items exist and again while they are alive. No warm-up
 * run comes first on purpose: its garbage can stay reachable through a stale register
 * of the caller and be collected during the measurement, which made fibers look 200 B
 * smaller than they are (heap snapshots show the real size). So what a library
 * allocates once (grown queues, compiled code) is charged to the items: ~10-20 B each
 * at 100k items.
 */
export async function bytesPer(hold: (count: number) => Promise<() => unknown>, count: number): Promise<number> {
  if (!gc) throw new Error('run node with --expose-gc to measure memory');
  const before = await settledHeap();
  const release = await hold(count);
  const alive = await settledHeap();
  await release();
  return (alive - before) / count;
}

async function settledHeap(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  (gc as () => void)();
  (gc as () => void)();
  return process.memoryUsage().heapUsed;
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

/**
 * `fn`'s time as a ratio to `base`'s, measured side by side in this one process: many
 * short runs, each of `fn` between two of `base` (order alternating), and the median of
 * those ratios. On a machine whose speed drifts between seconds (a shared VM), a ratio of
 * neighbouring runs holds where a ratio of rows measured in separate processes, seconds
 * apart, does not. Only for rows that share no code with `base` (they would share
 * inline caches in one process).
 */
export async function interleaved(
  fn: (iterations: number) => unknown,
  base: (iterations: number) => unknown,
  iterations: number,
  pairs = 30,
): Promise<RowResult> {
  const time = async (f: (iterations: number) => unknown): Promise<number> => {
    const t0 = performance.now();
    await f(iterations);
    return ((performance.now() - t0) * 1e6) / iterations;
  };
  for (let i = 0; i < 4; i++) {
    await time(base);
    await time(fn);
  }
  const ratios: number[] = [];
  const fns: number[] = [];
  const bases: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const b0 = await time(base);
    let f: number;
    let b1: number;
    if (i % 2 === 0) {
      f = await time(fn);
      b1 = await time(base);
    } else {
      b1 = await time(base);
      f = await time(fn);
    }
    ratios.push(f / ((b0 + b1) / 2));
    fns.push(f);
    bases.push(b0, b1);
  }
  return {
    value: median(ratios),
    extra: {
      quartiles: `${percentile(ratios, 25).toFixed(2)}-${percentile(ratios, 75).toFixed(2)}`,
      ns: fmt(median(fns)),
      base_ns: fmt(median(bases)),
    },
  };
}

/**
 * Each round's ratio to the baseline measured in the same round, as "median (min-max)".
 * The rows of a round run seconds apart, so the VM's slow stretches, which last longer,
 * mostly cancel out of these; the ratio of the medians keeps them.
 */
export function pairedRatios(row: readonly number[], base: readonly number[]): string {
  const q = row.map((x, i) => x / base[i]).sort((a, b) => a - b);
  return `${median(q).toFixed(2)}x (${q[0].toFixed(2)}-${q[q.length - 1].toFixed(2)})`;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** What one row measured: its value (in the table's unit) and extra columns. */
export interface RowResult {
  value: number;
  extra?: Record<string, string | number>;
}

/** One row of a table: `measure` runs in a process of its own. */
export interface BenchRow {
  name: string;
  measure: () => Promise<number | RowResult> | number | RowResult;
  /** Run the row's process with --expose-gc (memory rows, forced GCs). */
  exposeGc?: boolean;
}

/** A table of rows printed as ratios to `baseline`. */
export interface BenchTable {
  title: string;
  unit: string;
  baseline: string;
  higherIsBetter?: boolean;
  /** Every row of the table needs --expose-gc. */
  exposeGc?: boolean;
  rows: BenchRow[];
}

const ROW_FLAG = '--bench-row';

/**
 * Run a suite. In the parent, every row of every table runs in a fresh node process
 * (this same file with `--bench-row t:r`), `RIOCO_BENCH_ROUNDS`
 * times (default 5) with the rows interleaved, and the median value per row is printed
 * with its ratio to the baseline and the spread of the rounds (this VM has stretches of
 * seconds in which everything runs up to 2x slower; the median of interleaved rounds is
 * what stays put). The child measures its row and prints one JSON line. Only rows that
 * ask for it get `--expose-gc`: with that flag V8 runs Rioco's ping-pong up to 2x slower
 * for its first seconds (measured), which timing rows must not pay.
 * `RIOCO_BENCH_FILTER` (a substring of row names) runs only matching rows (plus each
 * table's baseline).
 */
export async function runSuite(header: string, tables: BenchTable[]): Promise<void> {
  const at = process.argv.indexOf(ROW_FLAG);
  if (at >= 0) {
    const [t, r] = process.argv[at + 1].split(':').map(Number);
    const got = await tables[t].rows[r].measure();
    const res: RowResult = typeof got === 'number' ? { value: got } : got;
    process.stdout.write(`@@row ${JSON.stringify(res)}\n`);
    return;
  }
  const rounds = Number(process.env.RIOCO_BENCH_ROUNDS ?? 5);
  const filter = process.env.RIOCO_BENCH_FILTER;
  console.log(`${header} — node ${process.version}, every row in a fresh process, median of ${rounds} round(s)`);
  const file = process.argv[1];
  for (let t = 0; t < tables.length; t++) {
    const table = tables[t];
    const picked = table.rows
      .map((row, r) => ({ row, r }))
      .filter(({ row }) => !filter || row.name === table.baseline || row.name.includes(filter));
    if (picked.length === 0) continue;
    const results = new Map<number, RowResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (const { row, r } of picked) {
        const flags = table.exposeGc === true || row.exposeGc === true ? ['--expose-gc'] : [];
        const child = spawnSync(process.execPath, [...flags, file, ROW_FLAG, `${t}:${r}`], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 26,
        });
        const line = /^@@row (.*)$/m.exec(child.stdout ?? '');
        if (child.status !== 0 || line === null) {
          throw new Error(`row "${row.name}" failed (exit ${child.status}):\n${child.stdout ?? ''}`);
        }
        (results.get(r) ?? results.set(r, []).get(r)!).push(JSON.parse(line[1]) as RowResult);
      }
    }
    const base = picked.find(({ row }) => row.name === table.baseline);
    const rows: Row[] = picked.map(({ row, r }) => {
      const byRound = results.get(r) as RowResult[];
      const rs = [...byRound].sort((a, b) => a.value - b.value);
      const mid = rs[(rs.length - 1) >> 1]; // the median round (lower middle for even counts)
      const spread: Record<string, string> = rs.length > 1 ? { rounds: `${fmt(rs[0].value)}..${fmt(rs[rs.length - 1].value)}` } : {};
      if (rs.length > 1 && base !== undefined && base.r !== r) {
        const baseByRound = results.get(base.r) as RowResult[];
        spread.per_round = pairedRatios(byRound.map((x) => x.value), baseByRound.map((x) => x.value));
      }
      return { name: row.name, value: mid.value, unit: table.unit, extra: { ...mid.extra, ...spread } };
    });
    report(table.title, rows, table.baseline, table.higherIsBetter);
  }
}
