/**
 * TCP echo servers side by side: Rioco fibers (@rioco/net) vs node:net callbacks vs
 * async/await over net streams vs a C epoll floor, each loaded from a separate process
 * by the closed-loop C client (/work/shared/tools/echo-load.c): 50 connections, 64-byte
 * ping-pong, N seconds each. Server and client are pinned to different cores with
 * `taskset` when it exists. Each server runs in its own fresh process (this file with
 * `--serve <kind>`), so JIT and GC state never leak between rows. Besides throughput and
 * latency it reports the server's CPU time per message (from /proc), which stays
 * comparable when other work on the machine skews throughput.
 *
 * Env: RIOCO_BENCH_NET_SECONDS (default 10), RIOCO_BENCH_NET_CONNS (50),
 * RIOCO_BENCH_NET_SIZE (64), RIOCO_BENCH_NET_ROUNDS (1; >1 interleaves the rows and
 * reports the median), RIOCO_BENCH_TOOLS (default /work/shared/tools).
 * Run: node --expose-gc dist/suites/net.js
 */
import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, spawn, type Operation } from '@rioco/core';
import { listen, NetError, type InetAddress, type Stream } from '@rioco/net';
import { median, pairedRatios, report, type Row } from '../harness.js';
import { announce, cpuMicros, hasTaskset, pinned, startServe } from '../procs.js';

type Kind = 'rioco' | 'node-callbacks' | 'async-await';

// ---- servers (child mode) -------------------------------------------------------------

function serveNodeCallbacks(): void {
  const server = createServer({ noDelay: true }, (s: Socket) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => s.destroy());
  });
  server.listen({ host: '127.0.0.1', port: 0 }, () => announce((server.address() as InetAddress).port));
}

function serveAsyncAwait(): void {
  const server = createServer({ noDelay: true }, (s: Socket) => {
    s.on('error', () => s.destroy());
    void (async () => {
      for await (const d of s) {
        if (!s.write(d as Buffer)) await once(s, 'drain');
      }
      s.end();
    })().catch(() => s.destroy());
  });
  server.listen({ host: '127.0.0.1', port: 0 }, () => announce((server.address() as InetAddress).port));
}

function* handle(conn: Stream): Operation<void> {
  conn.adopt();
  try {
    for (let b; (b = yield* conn.read()) !== null; ) yield* conn.write(b);
  } catch (e) {
    if (!(e instanceof NetError)) throw e; // the load generator resets its connections at the end
  }
}

function serveRioco(): void {
  void run(function* () {
    const listener = yield* listen({ host: '127.0.0.1', port: 0, noDelay: true });
    announce((listener.address as InetAddress).port);
    for (;;) spawn(handle, { args: [yield* listener.accept()] });
  }).catch((e: unknown) => console.error(e));
}

// ---- orchestration (parent mode) -------------------------------------------------------

interface LoadResult {
  msgs_per_s: number;
  cpu_us_per_msg?: number;
  lat_us: { p50: number; p90: number; p99: number; p999: number; max: number };
}

const seconds = Number(process.env.RIOCO_BENCH_NET_SECONDS ?? 10);
const conns = Number(process.env.RIOCO_BENCH_NET_CONNS ?? 50);
const size = Number(process.env.RIOCO_BENCH_NET_SIZE ?? 64);
const rounds = Number(process.env.RIOCO_BENCH_NET_ROUNDS ?? 1);
const tools = process.env.RIOCO_BENCH_TOOLS ?? '/work/shared/tools';

function compile(dir: string, name: string): string {
  const out = join(dir, name);
  const r = spawnSync('gcc', ['-O2', '-o', out, join(tools, `${name}.c`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${name}.c failed: ${r.stderr}`);
  return out;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (s.address() as InetAddress).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function startServer(kind: Kind | 'c-floor', floorBin: string): Promise<{ child: ChildProcess; port: number }> {
  if (kind === 'c-floor') {
    const port = await freePort();
    const [cmd, args] = pinned(0, floorBin, [String(port)]);
    const child = spawnProcess(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitConnectable(port);
    return { child, port };
  }
  return startServe(fileURLToPath(import.meta.url), kind);
}

async function waitConnectable(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function load(loadBin: string, port: number): Promise<LoadResult> {
  const [cmd, args] = pinned(1, loadBin, [String(port), String(conns), String(size), String(seconds), '1']);
  const child = spawnProcess(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`echo-load exited with ${code}`);
  return JSON.parse(out.trim()) as LoadResult;
}

async function measureKind(kind: Kind | 'c-floor', floorBin: string, loadBin: string): Promise<LoadResult> {
  const s = await startServer(kind, floorBin);
  const exited = once(s.child, 'exit');
  try {
    const cpu0 = cpuMicros(s.child.pid);
    const r = await load(loadBin, s.port);
    // Server CPU per message: robust to other load on the machine, unlike throughput.
    r.cpu_us_per_msg = (cpuMicros(s.child.pid) - cpu0) / (r.msgs_per_s * (seconds + 1));
    return r;
  } finally {
    s.child.kill('SIGKILL');
    await exited;
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(tools, 'echo-load.c'))) {
    console.log(`\n## net: skipped (no ${tools}/echo-load.c; set RIOCO_BENCH_TOOLS)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rioco-bench-net-'));
  try {
    const floorBin = compile(dir, 'echo-floor');
    const loadBin = compile(dir, 'echo-load');
    const kinds: Array<[string, Kind | 'c-floor']> = [
      ['node:net callbacks', 'node-callbacks'],
      ['async/await streams', 'async-await'],
      ['rioco fibers', 'rioco'],
      ['C epoll floor', 'c-floor'],
    ];
    const samples = new Map<string, LoadResult[]>();
    for (let r = 0; r < rounds; r++) {
      for (const [name, kind] of kinds) {
        const res = await measureKind(kind, floorBin, loadBin);
        (samples.get(name) ?? samples.set(name, []).get(name)!).push(res);
      }
    }
    const floors = samples.get('C epoll floor')!.map((x) => x.msgs_per_s);
    const floor = median(floors);
    const rows: Row[] = kinds.map(([name]) => {
      const xs = samples.get(name)!;
      const tput = median(xs.map((x) => x.msgs_per_s));
      return {
        name,
        value: tput,
        unit: 'msg/s',
        extra: {
          p50_us: median(xs.map((x) => x.lat_us.p50)).toFixed(0),
          p99_us: median(xs.map((x) => x.lat_us.p99)).toFixed(0),
          server_cpu_us_per_msg: median(xs.map((x) => x.cpu_us_per_msg ?? Number.NaN)).toFixed(2),
          vs_C: (tput / floor).toFixed(2),
          // Each round's ratio to the floor run right after it (see pairedRatios).
          ...(rounds > 1 && {
            vs_C_per_round: pairedRatios(xs.map((x) => x.msgs_per_s), floors),
          }),
        },
      };
    });
    const pin = hasTaskset ? 'server on cpu0, client on cpu1' : 'no taskset: unpinned';
    report(`net: TCP echo, ${conns} conns x ${size} B ping-pong, ${seconds}s each, ${rounds} round(s), ${pin}`, rows, 'node:net callbacks', true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  process.on('SIGINT', () => process.exit(0)); // lets `node --cpu-prof` write its profile
  const kind = process.argv[serveAt + 1] as Kind;
  if (kind === 'node-callbacks') serveNodeCallbacks();
  else if (kind === 'async-await') serveAsyncAwait();
  else serveRioco();
} else {
  await main();
}
