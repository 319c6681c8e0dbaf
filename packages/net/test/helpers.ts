import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, wait, type Operation } from '@rioco/core';
import type { Socket as NetSocket } from 'node:net';
import { connect, listen, SocketClosedError, type InetAddress, type Listener, type Stream } from '@rioco/net';

/** A fresh Unix socket path under os.tmpdir(). */
export function tmpSocketPath(name = 's.sock'): string {
  return join(mkdtempSync(join(tmpdir(), 'rioco-net-')), name);
}

export function portOf(l: Listener): number {
  return (l.address as InetAddress).port;
}

/** Echo every byte back until the peer ends its side, then end ours. */
export function* echo(conn: Stream): Operation<void> {
  conn.adopt();
  for (let b; (b = yield* conn.read()) !== null; ) yield* conn.write(b);
  yield* conn.shutdownWrite();
}

/** A loopback echo listener served by a child fiber (one fiber per connection). */
export function* echoServer(): Operation<{ listener: Listener; port: number }> {
  const listener = yield* listen({ host: '127.0.0.1', port: 0 });
  spawn(
    function* () {
      listener.adopt();
      for (;;) {
        let conn: Stream;
        try {
          conn = yield* listener.accept();
        } catch (e) {
          if (e instanceof SocketClosedError) return; // the test closed the listener
          throw e;
        }
        spawn(echo, { args: [conn], name: 'echo' });
      }
    },
    { name: 'accept-loop' },
  );
  return { listener, port: portOf(listener) };
}

/** One turn of the event loop (lets I/O callbacks run); for bounded polling only. */
export function* turn(): Operation<void> {
  yield* wait(new Promise<void>((resolve) => setImmediate(resolve)));
}

/** Poll `cond` once per event-loop turn, at most `max` turns. */
export function* until(cond: () => boolean, what: string, max = 2000): Operation<void> {
  for (let i = 0; i < max; i++) {
    if (cond()) return;
    yield* turn();
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A connected pair over loopback TCP: [client side, server side]. */
export function* pair(options: { readHighWaterMark?: number } = {}): Operation<[Stream, Stream]> {
  using listener = yield* listen({ host: '127.0.0.1', port: 0, ...options });
  const client = yield* connect({ host: '127.0.0.1', port: portOf(listener), ...options });
  const server = yield* listener.accept();
  return [client, server];
}

/** The Node.js socket under a stream, for white-box tests only. */
export function rawSocket(s: Stream): NetSocket {
  return (s as unknown as { s: { socket: NetSocket } }).s.socket;
}
