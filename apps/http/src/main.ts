/**
 * HTTP demo server: `node dist/main.js [PORT]` (or PORT=8080 HOST=127.0.0.1).
 *
 *   GET  /             hello, with the id of the fiber that served it
 *   GET  /sleep?ms=N   answers after N ms (0-10 000): each waiting request is a parked fiber
 *   GET  /stats        the server's counters as JSON
 *   POST /echo         the request body back
 *
 * Ctrl-C: `main()` cancels the root fiber; every connection fiber ends first (a request
 * sleeping in /sleep is cancelled and its connection closed), then the process exits 130.
 */
import { main } from '@rioco/core';
import { listen, type InetAddress } from '@rioco/net';
import { serveHttp, type HttpStats } from './http.js';
import { routes } from './routes.js';

const DEFAULT_PORT = 8080;

main(function* () {
  // listen() rejects a bad port with a clear InvalidArgumentError.
  const port = Number(process.argv[2] ?? process.env.PORT ?? DEFAULT_PORT);
  const host = process.env.HOST ?? '127.0.0.1';
  const stats: HttpStats = { connections: 0, accepted: 0, requests: 0, rejected: 0 };
  using listener = yield* listen({ host, port, noDelay: true });
  const { address, port: bound } = listener.address as InetAddress;
  const log = (line: string): void => void process.stderr.write(`http: ${line}\n`);
  log(`listening on http://${address}:${bound}/ (Ctrl-C to stop)`);
  try {
    yield* serveHttp(listener, routes(stats), { log }, stats);
  } finally {
    log(`stopped after ${stats.requests} request(s) on ${stats.accepted} connection(s)`);
  }
});
