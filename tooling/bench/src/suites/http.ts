/**
 * HTTP/1.1 keep-alive servers side by side: the Rioco demo server (apps/http: a fiber
 * per connection, requests read in blocking style) vs node:http, both answering a
 * 6-byte text body, loaded by `wrk` (1 thread, 50 connections) from the other core.
 * Each server runs in a fresh process of this file (`--serve <kind>`); rows interleave
 * over rounds and the median is printed with the server's CPU time per request.
 *
 * Env: RIOCO_BENCH_HTTP_SECONDS (default 5), RIOCO_BENCH_HTTP_CONNS (50),
 * RIOCO_BENCH_HTTP_ROUNDS (3). Skipped when `wrk` is not installed (apt-get install wrk).
 */
import { spawn as spawnProcess, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { run } from '@rioco/core';
import { listen, type InetAddress } from '@rioco/net';
import { serveHttp, type Response } from '@rioco/http';
import { median, report, type Row } from '../harness.js';
import { announce, cpuMicros, pinned, startServe } from '../procs.js';

type Kind = 'node-http' | 'rioco-http';
const BODY = 'hello\n';

function serveNode(): void {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
    res.end(BODY);
  });
  server.keepAliveTimeout = 30_000;
  server.listen({ host: '127.0.0.1', port: 0 }, () => announce((server.address() as InetAddress).port));
}

function serveRioco(): void {
  const res: Response = { status: 200, headers: { 'content-type': 'text/plain' }, body: BODY };
  void run(function* () {
    const listener = yield* listen({ host: '127.0.0.1', port: 0, noDelay: true });
    announce((listener.address as InetAddress).port);
    yield* serveHttp(listener, function* () {
      return res;
    });
  }).catch((e: unknown) => console.error(e));
}

const seconds = Number(process.env.RIOCO_BENCH_HTTP_SECONDS ?? 5);
const conns = Number(process.env.RIOCO_BENCH_HTTP_CONNS ?? 50);
const rounds = Number(process.env.RIOCO_BENCH_HTTP_ROUNDS ?? 3);

interface Load {
  rps: number;
  p50_us: number;
  p99_us: number;
  cpu_us_per_req: number;
}

function micros(v: string, unit: string): number {
  return Number(v) * (unit === 's' ? 1e6 : unit === 'ms' ? 1e3 : 1);
}

/** Requests/s and latency percentiles from `wrk --latency` output. */
export function parseWrk(out: string): { rps: number; p50_us: number; p99_us: number } {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)$/m.exec(out);
  if (rps === null || p50 === null || p99 === null) throw new Error(`unexpected wrk output:\n${out}`);
  return { rps: Number(rps[1]), p50_us: micros(p50[1], p50[2]), p99_us: micros(p99[1], p99[2]) };
}

async function measure(kind: Kind): Promise<Load> {
  const s = await startServe(fileURLToPath(import.meta.url), kind);
  const exited = once(s.child, 'exit');
  try {
    const cpu0 = cpuMicros(s.child.pid);
    const [cmd, args] = pinned(1, 'wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${s.port}/`]);
    const wrk = spawnProcess(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    wrk.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(wrk, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`wrk exited with ${code}`);
    const r = parseWrk(out);
    return { ...r, cpu_us_per_req: (cpuMicros(s.child.pid) - cpu0) / (r.rps * seconds) };
  } finally {
    s.child.kill('SIGKILL');
    await exited;
  }
}

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error !== undefined) {
    console.log('\n## http: skipped (wrk is not installed: apt-get install wrk)');
    return;
  }
  const kinds: Array<[string, Kind]> = [
    ['node:http', 'node-http'],
    ['rioco http (apps/http)', 'rioco-http'],
  ];
  const samples = new Map<string, Load[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, kind] of kinds) (samples.get(name) ?? samples.set(name, []).get(name)!).push(await measure(kind));
  }
  const rows: Row[] = kinds.map(([name]) => {
    const xs = samples.get(name)!;
    return {
      name,
      value: median(xs.map((x) => x.rps)),
      unit: 'req/s',
      extra: {
        p50_us: median(xs.map((x) => x.p50_us)).toFixed(0),
        p99_us: median(xs.map((x) => x.p99_us)).toFixed(0),
        server_cpu_us_per_req: median(xs.map((x) => x.cpu_us_per_req)).toFixed(2),
      },
    };
  });
  report(`http: keep-alive GET, ${conns} conns, wrk -t1, ${seconds}s each, ${rounds} round(s)`, rows, 'node:http', true);
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  process.on('SIGINT', () => process.exit(0)); // lets `node --cpu-prof` write its profile
  if (process.argv[serveAt + 1] === 'node-http') serveNode();
  else serveRioco();
} else {
  await main();
}
