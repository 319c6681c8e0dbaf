/**
 * A program outside the monorepo that uses the packed @rioco/* packages as a user who
 * installed them from the registry would: type-checked against their .d.ts files, then
 * run. It exits non-zero (with the reason) if anything a user relies on is missing.
 */
import assert from 'node:assert/strict';
import { run, spawn, socketReactor, dumpFibers, RiocoError, type Operation } from '@rioco/core';
import { channel, CLOSED, Mutex, onTimeout, select } from '@rioco/sync';
import { sleep, timeout, TimeoutError } from '@rioco/timers';
import { connect, listen, type InetAddress, type Stream } from '@rioco/net';

function* echo(conn: Stream): Operation<void> {
  for (let b; (b = yield* conn.read()) !== null; ) yield* conn.write(b);
}

const result = await run(function* () {
  // The native library loaded: from the platform package, or built from the shipped sources.
  assert.notEqual(socketReactor(), null, 'the native library did not load');
  assert.match(dumpFibers(), /fiber/);

  // sync: a channel between two fibers, a mutex, a select with a timeout.
  const ch = channel<number>(1);
  const m = new Mutex();
  let total = 0;
  const producer = spawn(function* () {
    for (let i = 1; i <= 3; i++) yield* ch.send(i);
    ch.close();
  });
  for (let v; (v = yield* ch.recvOrClosed()) !== CLOSED; ) {
    const g = yield* m.lock();
    total += v;
    g.release();
  }
  yield* producer;
  const idle = channel<number>(0);
  const picked = yield* select(idle.onRecv(), onTimeout(1));
  assert.equal(picked.index, 1);

  // timers: a timeout that fires, as a RiocoError with its stable code.
  let timedOut: unknown;
  try {
    yield* timeout(5, sleep(1_000));
  } catch (e) {
    timedOut = e;
  }
  assert.ok(timedOut instanceof TimeoutError && timedOut instanceof RiocoError && timedOut.code === 'TIMEOUT');

  // net: a TCP echo round trip on 127.0.0.1, on the native readiness path.
  const listener = yield* listen({ host: '127.0.0.1', port: 0 });
  const port = (listener.address as InetAddress).port;
  const server = spawn(function* () {
    yield* echo(yield* listener.accept());
  });
  const client = yield* connect({ host: '127.0.0.1', port });
  yield* client.write('ping');
  const back = yield* client.readExactly(4);
  client.close();
  yield* server;
  listener.close();
  return { total, back: back.toString() };
});

assert.deepEqual(result, { total: 6, back: 'ping' });

// Internals stay private: the exports maps close `internal/*`.
for (const p of ['core', 'sync', 'timers', 'net']) {
  await assert.rejects(import(`@rioco/${p}/internal/index.js`), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
}
console.log('packed packages: ok', JSON.stringify(result));
