/**
 * TCP chat server: `node dist/main.js [PORT]` (or PORT=7070 HOST=127.0.0.1). Connect with
 * `nc 127.0.0.1 7070`, pick a nick, and every line goes to everyone else in the room.
 * Ctrl-C: `main()` cancels the root fiber, every session ends first (clients see their
 * connection close), then the listener closes and the process exits with 130.
 */
import { main } from '@rioco/core';
import { listen, type InetAddress } from '@rioco/net';
import { serveChat } from './server.js';

const DEFAULT_PORT = 7070;

main(function* () {
  // listen() rejects a bad port with a clear InvalidArgumentError.
  const port = Number(process.argv[2] ?? process.env.PORT ?? DEFAULT_PORT);
  const host = process.env.HOST ?? '127.0.0.1';
  using listener = yield* listen({ host, port, noDelay: true });
  const { address, port: bound } = listener.address as InetAddress;
  const log = (line: string): void => void process.stderr.write(`chat: ${line}\n`);
  log(`listening on ${address}:${bound} (Ctrl-C to stop)`);
  try {
    yield* serveChat(listener, { log });
  } finally {
    log('stopped; every session has ended');
  }
});
