/**
 * A small Rioco program: three workers take jobs from a channel, a slow fiber gets
 * cancelled (its `finally` still runs), an operation is cut short by a timeout, a job
 * fails inside a supervisor without taking its siblings down, and the workers' results
 * are joined at the end.
 *
 * Run it from the repository root: `npx -y pnpm@10.34.9 install && npx -y pnpm@10.34.9 demo`
 */
import { main, spawn, supervisor, type Operation } from '@rioco/core';
import { channel, CLOSED, type Channel } from '@rioco/sync';
import { sleep, timeout } from '@rioco/timers';

const t0 = Date.now();
function log(message: string): void {
  console.log(`[${String(Date.now() - t0).padStart(4)} ms] ${message}`);
}

function* worker(id: number, jobs: Channel<number>): Operation<number> {
  let done = 0;
  try {
    for (;;) {
      const ms = yield* jobs.recvOrClosed();
      if (ms === CLOSED) return done;
      yield* sleep(ms); // the "work"
      done++;
      log(`worker ${id} finished a ${ms} ms job`);
    }
  } finally {
    log(`worker ${id} stops after ${done} job(s)`);
  }
}

function* slowFiber(): Operation<void> {
  try {
    log('slow fiber starts a 10 s wait');
    yield* sleep(10_000);
  } finally {
    // Cancellation arrives here as return(): cleanup runs, and may itself wait.
    yield* sleep(5);
    log('slow fiber was cancelled; its finally block ran');
  }
}

main(function* () {
  const jobs = channel<number>(2);
  const workers = [1, 2, 3].map((id) => spawn(worker, { args: [id, jobs], name: `worker-${id}` }));
  const slow = spawn(slowFiber, { name: 'slow' });

  for (const ms of [30, 10, 50, 20, 40, 10]) yield* jobs.send(ms);
  jobs.close();
  log('all jobs queued; channel closed');

  slow.cancel();
  yield* slow.halt();

  try {
    yield* timeout(25, sleep(1_000));
  } catch (err) {
    log(`a 1 s sleep under a 25 ms timeout failed with ${(err as { code?: string }).code}`);
  }

  yield* supervisor(function* () {
    const bad = spawn(function* () {
      yield* sleep(5);
      throw new Error('job exploded');
    });
    const good = spawn(function* () {
      yield* sleep(10);
      return 'ok';
    });
    try {
      yield* bad;
    } catch (err) {
      log(`supervised job failed alone: ${(err as Error).message}`);
    }
    log(`its sibling still finished: ${yield* good}`);
  });

  const counts: number[] = [];
  for (const w of workers) counts.push(yield* w);
  log(`jobs per worker: ${counts.join(', ')} (total ${counts.reduce((a, b) => a + b, 0)})`);
});
