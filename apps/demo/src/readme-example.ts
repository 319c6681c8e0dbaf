// The README's twenty-line example, kept here so it is typechecked and run by the tests.
import { main, spawn, type Operation } from '@rioco/core';
import { channel, CLOSED, type Channel } from '@rioco/sync';
import { sleep, timeout } from '@rioco/timers';

function* worker(id: number, jobs: Channel<number>): Operation<number> {
  let done = 0;
  try {
    for (let ms; (ms = yield* jobs.recvOrClosed()) !== CLOSED; done++) yield* sleep(ms);
    return done;
  } finally {
    console.log(`worker ${id} stops after ${done} jobs`); // runs on cancel too
  }
}

main(function* () {
  const jobs = channel<number>(2);
  const workers = [1, 2, 3].map((id) => spawn(worker, { args: [id, jobs] }));
  for (const ms of [30, 10, 50, 20]) yield* jobs.send(ms);
  jobs.close();
  yield* timeout(1_000, function* () { for (const w of workers) console.log(yield* w); });
});
