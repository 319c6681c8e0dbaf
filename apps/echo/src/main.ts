/**
 * TCP echo server on Rioco fibers: one fiber per connection written as a plain loop,
 * a live stats line on stderr every second, and a graceful Ctrl-C — `main()` cancels
 * the root fiber, which cancels every connection fiber first, and each one's socket
 * closes as its fiber ends.
 *
 * Usage: node dist/main.js [PORT]   (or PORT=7007 HOST=127.0.0.1 node dist/main.js)
 * A bad PORT (argument or variable) or an empty HOST prints why and exits with 2.
 */
import { main, spawn, type Operation } from '@rioco/core';
import { now, sleep } from '@rioco/timers';
import { NetError, listen, type InetAddress, type Stream } from '@rioco/net';

interface Stats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Chunks echoed (one read() each) since start. */
  msgs: number;
  /** Bytes echoed since start. */
  bytes: number;
  /** Connections that ended with an error (reset by the peer, …). */
  errors: number;
}

const DEFAULT_PORT = 7007;

/** One connection: echo every chunk back until the peer ends its side. */
function* handle(conn: Stream, stats: Stats): Operation<void> {
  // serve() runs this in a fiber of its own that owns `conn`: it closes when we return.
  stats.connections++;
  stats.accepted++;
  try {
    for (let chunk; (chunk = yield* conn.read()) !== null; ) {
      stats.msgs++;
      stats.bytes += chunk.length;
      yield* conn.write(chunk);
    }
    yield* conn.shutdownWrite();
  } catch (err) {
    if (!(err instanceof NetError)) throw err;
    stats.errors++; // a peer that resets or vanishes ends only its own connection
  } finally {
    stats.connections--;
    conn.close();
  }
}

/** The live stats line, once a second. */
function* report(stats: Stats): Operation<void> {
  const tty = process.stderr.isTTY === true;
  let lastMsgs = 0;
  let lastBytes = 0;
  let last = now();
  for (;;) {
    yield* sleep(1000);
    const t = now();
    const dt = (t - last) / 1000;
    const line =
      `conns ${stats.connections}  accepted ${stats.accepted}  ` +
      `msgs/s ${Math.round((stats.msgs - lastMsgs) / dt)}  ` +
      `bytes/s ${formatBytes((stats.bytes - lastBytes) / dt)}  total ${formatBytes(stats.bytes)}  errors ${stats.errors}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    lastMsgs = stats.msgs;
    lastBytes = stats.bytes;
    last = t;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

const USAGE = 'usage: node dist/main.js [PORT]   (or PORT=7007 HOST=127.0.0.1 node dist/main.js)';

/** Exit code of a bad command line or environment (a usage error, as getopt-style tools use it). */
const EXIT_USAGE = 2;

/**
 * Where to listen: the port is the first argument, else `PORT`, else 7007, and must be a
 * decimal integer from 0 to 65535 (0 picks a free one); the host is `HOST`, else
 * 127.0.0.1. Anything else (an empty `PORT=`, `abc`, `80.5`, `1e3`, `70000`, an empty
 * `HOST=`) is a usage error with a message, not silently port 0, NaN or a stack trace.
 */
function config(): { port: number; host: string } | { error: string } {
  const arg = process.argv[2];
  const env = process.env.PORT;
  const raw = arg ?? env ?? String(DEFAULT_PORT);
  if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) > 65535) {
    const from = arg !== undefined ? 'the PORT argument' : 'the PORT environment variable';
    return { error: `${from} must be a port number from 0 to 65535 (0 picks a free one), got ${JSON.stringify(raw)}` };
  }
  const host = process.env.HOST ?? '127.0.0.1';
  if (host === '') return { error: 'the HOST environment variable is empty: give a host name or IP address, or leave it unset for 127.0.0.1' };
  return { port: Number(raw), host };
}

const cfg = config();
if ('error' in cfg) {
  process.stderr.write(`echo: ${cfg.error}\n${USAGE}\n`);
  process.exitCode = EXIT_USAGE;
} else {
  const { port, host } = cfg;
  main(function* () {
    const stats: Stats = { connections: 0, accepted: 0, msgs: 0, bytes: 0, errors: 0 };
    using listener = yield* listen({ host, port, noDelay: true });
    const { address, port: bound } = listener.address as InetAddress;
    process.stderr.write(`echo: listening on ${address}:${bound} (Ctrl-C to stop)\n`);
    spawn(report, { args: [stats], name: 'stats' });
    try {
      yield* listener.serve((conn) => handle(conn, stats), {
        name: 'conn',
        // Out of descriptors: serve() waits and accepts again; the listener stays usable.
        onTooManyOpenFiles: (err) => void process.stderr.write(`\necho: ${err.message}\n`),
      });
    } finally {
      // Cancellation (Ctrl-C) reaches here after every connection fiber has ended.
      process.stderr.write(`\necho: stopped; ${stats.accepted} connection(s) served, ${stats.connections} still open\n`);
    }
  });
}
