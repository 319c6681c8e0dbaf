import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { execFileSync, spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RiocoError } from '../src/errors.js';
import { run } from '../src/run.js';
import { spawn, yieldNow } from '../src/spawn.js';
import {
  createNativeTableMemory,
  devBuildPath,
  dumpFibers,
  loadNative,
  monitorThreadId,
  startMonitor,
  tryLoadNative,
  NativeTableMemory,
  type MonitorReport,
} from '../src/internal/native/index.js';
import { ABI_VERSION } from '../src/internal/native/load.js';
import {
  D_SINCE,
  F_ID,
  F_NAME,
  F_PARENT,
  F_PRIORITY,
  F_REASON,
  F_STATE,
  FiberTable,
  H_CURRENT,
  H_LIVE,
  HD_SWITCH_SEQ,
  MAX_SLOTS,
  S_PARKED,
  S_RUNNING,
  SLOT_WORDS,
} from '../src/internal/table.js';
import { internReason } from '../src/internal/waitReason.js';
import { fixtureArgs } from './fixtures/run-fixture.js';

const nativeDir = fileURLToPath(new URL('../native/', import.meta.url));

beforeAll(() => {
  // Test against the current C sources (a no-op when the build is up to date).
  execFileSync(process.execPath, [`${nativeDir}build.mjs`], { stdio: 'pipe' });
});

const regionCount = (): number => loadNative().fn.regionCount();
const monitorThreads = (): number =>
  readdirSync('/proc/self/task').filter((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'rioco-monitor';
    } catch {
      return false; // the thread ended while we looked
    }
  }).length;

/** Write one fiber into a table the way the scheduler does (ID last). */
function writeFiber(mem: { i32: Int32Array; f64: Float64Array; putString(s: string): number }, slot: number, id: number, state: number, name?: string): void {
  const base = slot * SLOT_WORDS;
  mem.i32[base + F_STATE] = state;
  mem.i32[base + F_PRIORITY] = 2;
  mem.i32[base + F_PARENT] = 1;
  mem.i32[base + F_NAME] = name === undefined ? 0 : mem.putString(name);
  mem.f64[slot * 8 + D_SINCE] = performance.now();
  mem.i32[base + F_ID] = id;
}

describe('loading', () => {
  const saved = process.env.RIOCO_NATIVE_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.RIOCO_NATIVE_PATH;
    else process.env.RIOCO_NATIVE_PATH = saved;
  });

  it('loads the dev build and checks its ABI', () => {
    const lib = loadNative();
    expect(lib.source).toBe('dev build');
    expect(lib.path).toBe(devBuildPath());
    expect(lib.fn.abiVersion()).toBe(ABI_VERSION);
    expect(lib.fn.hostAvailable()).toBe(1);
    expect(loadNative()).toBe(lib); // cached
  });

  it('an override path that does not exist fails with one error naming it and the fix', () => {
    process.env.RIOCO_NATIVE_PATH = '/nonexistent/librioco.so';
    let err: unknown;
    try {
      loadNative();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RiocoError);
    const e = err as RiocoError;
    expect(e.code).toBe('NATIVE_UNAVAILABLE');
    expect(e.message).toContain('RIOCO_NATIVE_PATH (/nonexistent/librioco.so): file not found');
    expect(e.message).toContain('To fix: point RIOCO_NATIVE_PATH at a built librioco');
    expect(e.message.match(/^ {2}- /gm)).toHaveLength(1); // an explicit override is the only candidate
    expect(tryLoadNative()).toBeNull();
  });

  it('an override that is not a library reports the loader error', () => {
    process.env.RIOCO_NATIVE_PATH = fileURLToPath(new URL('../package.json', import.meta.url));
    expect(() => loadNative()).toThrow(/RIOCO_NATIVE_PATH \(.*package\.json\): .+/);
    delete process.env.RIOCO_NATIVE_PATH;
    expect(loadNative().source).toBe('dev build'); // back to normal once unset
  });
});

describe('native table memory', () => {
  it('grows keeping its data, with a header that never moves', () => {
    const mem = createNativeTableMemory(5, 4);
    const header = mem.header.i32;
    mem.header.i32[H_LIVE] = 3;
    for (let s = 0; s < 4; s++) writeFiber(mem, s, 100 + s, S_PARKED, `f${s}`);
    mem.grow(16);
    expect(mem.capacity).toBe(16);
    expect(mem.header.i32).toBe(header);
    for (let s = 0; s < 4; s++) {
      expect(mem.i32[s * SLOT_WORDS + F_ID]).toBe(100 + s);
      expect(mem.i32[s * SLOT_WORDS + F_PRIORITY]).toBe(2);
    }
    expect(mem.i32[4 * SLOT_WORDS + F_ID]).toBe(0);
    const dump = dumpFibers();
    for (let s = 0; s < 4; s++) expect(dump).toContain(`fiber #${100 + s} "f${s}" state=parked prio=2 parent=#1`);
    mem.close();
  });

  it('fails with TABLE_FULL past the limit and stays intact', () => {
    const mem = createNativeTableMemory(6, 2);
    writeFiber(mem, 1, 9, S_PARKED);
    expect(() => mem.grow(MAX_SLOTS + 1)).toThrow(expect.objectContaining({ code: 'TABLE_FULL' }));
    expect(mem.capacity).toBe(2);
    expect(mem.i32[SLOT_WORDS + F_ID]).toBe(9);
    mem.close();
    expect(() => mem.grow(8)).toThrow(expect.objectContaining({ code: 'RUNTIME_CLOSED' }));
  });

  it('rejects a bad capacity', () => {
    expect(() => createNativeTableMemory(1, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createNativeTableMemory(1, 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('fibers that end free their slot and their name', () => {
    const mem = createNativeTableMemory(8, 2);
    const table = new FiberTable(mem);
    const slots = Array.from({ length: 5 }, () => table.alloc()); // grows 2 -> 4 -> 8
    expect(mem.capacity).toBe(8);
    slots.forEach((slot, i) => writeFiber(table.mem, slot, 200 + i, S_PARKED, `worker ${i}`));
    for (const slot of slots.slice(0, 4)) {
      table.mem.dropString(table.i32[slot * SLOT_WORDS + F_NAME]);
      table.release(slot);
    }
    const dump = dumpFibers();
    expect(dump).toContain('fiber #204 "worker 4"');
    expect(dump).not.toContain('fiber #200 ');
    expect(table.alloc()).toBe(slots[3]); // LIFO reuse
    expect(mem.putString('again')).toBeGreaterThan(0);
    mem.close();
  });

  it('prints wait reasons by label, including ones interned later', () => {
    const mem = createNativeTableMemory(9, 4);
    const later = internReason(`native test reason ${Math.random()}`);
    writeFiber(mem, 0, 301, S_PARKED, 'waiter');
    mem.i32[F_REASON] = later.id;
    expect(dumpFibers()).toContain(`fiber #301 "waiter" state=parked prio=2 parent=#1 waiting-on="${later.label}"`);
    mem.close();
  });

  it('close releases the region and detaches the views', () => {
    const before = regionCount();
    const mem = createNativeTableMemory(10, 4) as NativeTableMemory;
    expect(regionCount()).toBe(before + 1);
    mem.setRuntimeId(77);
    expect(dumpFibers()).toContain('runtime 77 (thread ');
    mem.close();
    mem.close(); // twice is harmless
    expect(regionCount()).toBe(before);
    mem.i32[0] = 1; // writes after close land in a scratch buffer, not freed memory
    mem.header.i32[H_CURRENT] = 1;
  });
});

describe('monitor', () => {
  it('start/stop runs exactly one native thread and joins it', () => {
    expect(monitorThreadId()).toBe(0);
    expect(monitorThreads()).toBe(0);
    const a = startMonitor({ stuckMs: 60_000, loopStallMs: 60_000, onReport: () => {} });
    const b = startMonitor({ stuckMs: 60_000, loopStallMs: 0, onReport: () => {} });
    const tid = monitorThreadId();
    expect(tid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()).toBe('rioco-monitor');
    expect(monitorThreads()).toBe(1);
    a.stop();
    expect(monitorThreadId()).toBe(tid);
    b.stop();
    b.stop(); // twice is harmless
    expect(monitorThreadId()).toBe(0);
    expect(existsSync(`/proc/self/task/${tid}`)).toBe(false);
    expect(monitorThreads()).toBe(0);
  });

  it('rejects bad options', () => {
    const onReport = (): void => {};
    expect(() => startMonitor({ stuckMs: 0, loopStallMs: 0, onReport })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => startMonitor({ stuckMs: -1, loopStallMs: 10, onReport })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => startMonitor({ stuckMs: 10, loopStallMs: 0, onReport: 1 as never })).toThrow(/onReport/);
    expect(monitorThreadId()).toBe(0);
  });

  it('reports a fiber that stays current without switching, through the callback', async () => {
    const mem = createNativeTableMemory(11, 4) as NativeTableMemory;
    mem.setRuntimeId(11);
    writeFiber(mem, 0, 401, S_RUNNING, 'hog');
    mem.header.f64[HD_SWITCH_SEQ] = 5;
    mem.header.i32[H_CURRENT] = 401;
    let monitor: { stop(): void } | undefined;
    const report = await new Promise<MonitorReport>((resolve) => {
      monitor = startMonitor({ stuckMs: 40, loopStallMs: 0, sampleMs: 5, onReport: resolve });
    });
    monitor!.stop();
    expect(report).toMatchObject({ kind: 'stuck-fiber', fiberId: 401, runtimeId: 11 });
    expect(report.ms).toBeGreaterThanOrEqual(40);
    mem.close();
    expect(monitorThreadId()).toBe(0);
  });

  it('reports an event loop that stopped turning, once it turns again', async () => {
    const reports: MonitorReport[] = [];
    let delivered!: () => void;
    const got = new Promise<void>((r) => (delivered = r));
    const monitor = startMonitor({
      stuckMs: 0,
      loopStallMs: 40,
      sampleMs: 5,
      onReport: (r) => {
        reports.push(r);
        delivered();
      },
    });
    // Let the loop turn once with the monitor attached, then block it: the stall is
    // the event under test.
    await new Promise((r) => setImmediate(r));
    const end = performance.now() + 75;
    while (performance.now() < end) {
      // blocked event loop
    }
    await got;
    monitor.stop();
    expect(reports[0]).toMatchObject({ kind: 'loop-stall' });
    expect(reports[0].ms).toBeGreaterThanOrEqual(40);
  });

  it('a subscriber may stop inside its report, and its errors do not leak into native code', async () => {
    const mem = createNativeTableMemory(12, 2);
    writeFiber(mem, 0, 501, S_RUNNING);
    mem.header.i32[H_CURRENT] = 501;
    const m = startMonitor({
      stuckMs: 20,
      loopStallMs: 0,
      sampleMs: 5,
      onReport: () => {
        m.stop();
      },
    });
    await new Promise<void>((resolve) => {
      const poll = (): void => (monitorThreadId() === 0 ? resolve() : void setTimeout(poll, 5));
      poll();
    });
    expect(loadNative().fn.abiVersion()).toBe(ABI_VERSION); // the next koffi call is unaffected
    mem.close();
  });
});

describe('runtimes on native tables', () => {
  it('a runtime keeps its region for the next one of the thread; dumps list only runtimes in use', async () => {
    const seen: string[] = [];
    await run(function* () {
      for (let i = 0; i < 300; i++) spawn(function* () {}, { name: `first-${i}` }); // grows the region
      seen.push(dumpFibers());
    }, { native: true });
    const kept = regionCount();
    expect(dumpFibers()).not.toContain('first-'); // every slot and name of the first runtime is gone
    expect(dumpFibers()).toMatch(/, 0 runtime\(s\), 0 live fiber\(s\)/);
    await run(function* () {
      spawn(function* () {
        yield* yieldNow();
      }, { name: 'second' });
      seen.push(dumpFibers());
    }, { native: true });
    expect(regionCount()).toBe(kept); // no new region: the kept one was reused
    expect(seen[0]).toContain('"first-299"');
    expect(seen[1]).toMatch(/fiber #\d+ "second" state=ready/);
    expect(seen[1]).not.toContain('first-');
    expect(seen[1]).toMatch(/, 1 runtime\(s\), 2 live fiber\(s\)/);
  });
});

describe('worker threads', () => {
  const boot = new URL('./fixtures/native-boot.mjs', import.meta.url);
  const file = new URL('./fixtures/native-worker.ts', import.meta.url).href;

  function startWorker(name: string, fiberId: number, monitor: boolean): Promise<Worker> {
    const w = new Worker(boot, { workerData: { file, name, fiberId, monitor } });
    return new Promise((resolve, reject) => {
      w.once('error', reject);
      w.on('message', (m) => m === 'ready' && resolve(w));
    });
  }
  const exited = (w: Worker): Promise<number> => new Promise((r) => w.once('exit', r));

  it('each worker gets its own region; all are visible and all are released, twice over', async () => {
    const base = regionCount();
    for (let round = 0; round < 2; round++) {
      const names = [0, 1, 2].map((i) => `w${round}-${i}`);
      const workers = await Promise.all(names.map((n, i) => startWorker(n, 600 + i, i !== 1)));
      expect(regionCount()).toBe(base + 3);
      const dump = dumpFibers();
      names.forEach((n, i) => expect(dump).toContain(`fiber #${600 + i} "${n}" state=parked`));
      const threads = new Set([...dump.matchAll(/runtime 7 \(thread (\d+)\)/g)].map((m) => m[1]));
      expect(threads.size).toBe(3);
      // One closes cleanly, one is terminated while idle, one while spinning (with a
      // monitor subscription: its host is closed by the environment's cleanup hook).
      // Listen for the exit before asking for it: a worker that closes quickly could
      // otherwise exit before the listener exists, and the test would wait forever.
      const closed = exited(workers[0]);
      workers[0].postMessage('close');
      const spinning = new Promise((r) => workers[2].once('message', r));
      workers[2].postMessage('spin');
      await spinning;
      await Promise.all([closed, workers[1].terminate(), workers[2].terminate()]);
      expect(regionCount()).toBe(base);
      expect(dumpFibers()).not.toContain(`"w${round}-`);
      expect(monitorThreadId()).toBe(0);
    }
  });
});

describe('SIGQUIT dump of a process stuck in a loop', () => {
  function start(mode: string): { child: ChildProcess; stdout: () => string; stderr: () => string; wait: (stream: 'stdout' | 'stderr', text: string) => Promise<void> } {
    const child = spawnProcess(process.execPath, [...fixtureArgs('native-spin.ts'), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    const waiters: Array<() => void> = [];
    for (const s of ['stdout', 'stderr'] as const) {
      child[s].on('data', (d: Buffer) => {
        out[s] += d.toString();
        for (const w of waiters.splice(0)) w();
      });
    }
    const wait = (s: 'stdout' | 'stderr', text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (out[s].includes(text)) resolve();
          else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`exited before "${text}":\n${out.stdout}\n${out.stderr}`));
          else waiters.push(check);
        };
        child.once('exit', check);
        check();
      });
    return { child, stdout: () => out.stdout, stderr: () => out.stderr, wait };
  }

  it('names the spinning fiber (simulated table), and the monitor reports it on stderr', async () => {
    const p = start('table');
    try {
      await p.wait('stdout', 'ready');
      // The JavaScript thread is blocked, so the stuck-fiber report cannot reach its
      // callback: the monitor thread writes it to stderr.
      await p.wait('stderr', 'has not taken the report');
      expect(p.stderr()).toMatch(/rioco: fiber #42 "spinner" \(runtime 1, thread \d+\) has run \d+ ms without yielding/);
      p.child.kill('SIGQUIT');
      await p.wait('stderr', '=== end of rioco fiber dump ===');
      expect(p.stderr()).toMatch(/fiber #42 "spinner" state=running prio=0 parent=#1 waiting-on=- for=\d+ms switches=0 <- running now/);
      expect(p.child.exitCode).toBeNull(); // SIGQUIT did not kill it
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('names the spinning fiber of a real runtime started with { native: true }', async () => {
    const p = start('runtime');
    try {
      await p.wait('stdout', 'ready');
      p.child.kill('SIGQUIT');
      await p.wait('stderr', '=== end of rioco fiber dump ===');
      expect(p.stderr()).toMatch(/fiber #\d+ "spinner" state=running .* <- running now/);
      expect(p.stderr()).toMatch(/fiber #\d+ "main" state=/);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('chains to a JavaScript SIGQUIT listener installed before it', async () => {
    const p = start('chain');
    try {
      await p.wait('stdout', 'ready');
      p.child.kill('SIGQUIT');
      await p.wait('stderr', '=== end of rioco fiber dump ===');
      await p.wait('stdout', 'listener ran');
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});
