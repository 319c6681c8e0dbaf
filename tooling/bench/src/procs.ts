/**
 * Process plumbing shared by the load-generator suites (net, http): pinning to a core
 * with `taskset`, a server child of the suite's own file (`--serve <kind>`, which prints
 * `ready <port>`), and a process's CPU time from /proc.
 */
import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** `cmd args` run on `core` when taskset exists. */
export function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

/** Tell the parent which port a `--serve` child listens on. */
export function announce(port: number): void {
  process.stdout.write(`ready ${port}\n`);
}

/** Start `file --serve kind` on cpu0 and wait for its `ready <port>` line. */
export async function startServe(file: string, kind: string): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, args] = pinned(0, process.execPath, [file, '--serve', kind]);
  const child = spawnProcess(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout as NodeJS.ReadableStream) {
    out += String(chunk);
    const m = /ready (\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]) };
  }
  throw new Error(`server ${kind} did not start`);
}

/** CPU time (user + system) a process has used, in microseconds; NaN where /proc is missing. */
export function cpuMicros(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, in USER_HZ (100) ticks
  } catch {
    return Number.NaN;
  }
}
