/**
 * A small HTTP/1.1 server on Rioco fibers: one fiber per connection, reading requests in
 * blocking style, with keep-alive and pipelining (requests on one connection are read and
 * answered in order), `Content-Length` request bodies, and the limits a server exposed
 * to the network needs: a deadline for the request head (slow-loris), an idle timeout
 * between keep-alive requests, and caps on line length, header count and body size.
 *
 * What it leaves out on purpose (it is a demo of the runtime, not a web framework):
 * chunked request bodies (answered 501), `Expect: 100-continue`, and TLS.
 *
 * Invariant: a response is written only after its request was read whole, and the
 * connection is closed (by the fiber ending: the stream is adopted) after any response
 * that says `Connection: close` — every error response does.
 */
import { Buffer } from 'node:buffer';
import type { Operation } from '@rioco/core';
import { LineTooLongError, NetError, TimeoutError as NetTimeoutError, type Listener, type Stream } from '@rioco/net';
import { TimeoutError, now, timeout } from '@rioco/timers';

/** A request, read whole. Header names are lower-cased; repeated headers are joined with ", ". */
export interface Request {
  readonly method: string;
  /** The request target as sent: path and query (`/items?id=3`). */
  readonly target: string;
  /** The path of `target`, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  readonly version: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** What a handler answers. `Content-Length` and `Connection` are set by the server. */
export interface Response {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export type Handler = (req: Request) => Operation<Response>;

export interface HttpOptions {
  /** Time to read a request's head once its first line arrived, and again its body, ms (default 10 000). */
  headTimeout?: number;
  /** How long an idle keep-alive connection is kept, ms (default 30 000). */
  idleTimeout?: number;
  /** Longest request line or header line, bytes (default 8192). */
  maxLine?: number;
  /** Most header lines in a request (default 100). */
  maxHeaders?: number;
  /** Largest request body, bytes (default 1 MiB). */
  maxBody?: number;
  /** Called with a line for the server's log (default: nothing). */
  log?: (line: string) => void;
}

/** Counters a server keeps (read them while it runs). */
export interface HttpStats {
  connections: number;
  accepted: number;
  requests: number;
  /** Connections closed because of a protocol error or a limit (400, 408, 413, …). */
  rejected: number;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/** A request the server refuses: answered with `status`, then the connection closes. */
class Reject extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Serve `handler` on `listener` until cancelled. */
export function* serveHttp(listener: Listener, handler: Handler, options: HttpOptions = {}, stats?: HttpStats): Operation<never> {
  const st = stats ?? { connections: 0, accepted: 0, requests: 0, rejected: 0 };
  const log = options.log ?? ((): void => {});
  return yield* listener.serve((conn) => connection(conn, handler, options, st, log), {
    name: 'http connection',
    onTooManyOpenFiles: () => log('out of file descriptors; accepting again in 100 ms'),
  });
}

function* connection(conn: Stream, handler: Handler, o: HttpOptions, st: HttpStats, log: (line: string) => void): Operation<void> {
  // serve() runs this in a fiber of its own that owns `conn`: it closes when we return.
  st.connections++;
  st.accepted++;
  try {
    for (;;) {
      let req: Request | null;
      try {
        req = yield* readRequest(conn, o);
      } catch (err) {
        const reject = toReject(err);
        if (reject === null) throw err;
        st.rejected++;
        if (reject.status > 0) {
          yield* send(conn, 'HTTP/1.1', errorResponse(reject.status, reject.message), false);
          yield* lingeringClose(conn);
        }
        return;
      }
      if (req === null) return; // the client closed, or stayed idle too long
      st.requests++;
      let res: Response;
      try {
        res = yield* handler(req);
      } catch (err) {
        log(`handler failed on ${req.method} ${req.target}: ${String(err)}`);
        yield* send(conn, req.version, errorResponse(500, 'the handler failed'), false);
        return;
      }
      const keepAlive = wantsKeepAlive(req);
      yield* send(conn, req.version, res, keepAlive, req.method === 'HEAD');
      if (!keepAlive) return;
    }
  } catch (err) {
    if (!(err instanceof NetError)) throw err; // a reset or a vanished peer ends only this connection
  } finally {
    st.connections--;
  }
}

/**
 * End our side and read what the client still sends, up to a limit, before the fiber
 * closes the socket: closing with unread bytes makes the kernel send a reset, which can
 * destroy the error response before the client reads it.
 */
function* lingeringClose(conn: Stream): Operation<void> {
  yield* conn.shutdownWrite();
  let left = 1 << 20;
  for (let b; left > 0 && (b = yield* conn.read({ timeout: 2_000 })) !== null; ) left -= b.length;
}

/** What a failure while reading a request means: a response to send (status 0: none), or null (not ours). */
function toReject(err: unknown): Reject | null {
  if (err instanceof Reject) return err;
  if (err instanceof LineTooLongError) return new Reject(431, 'a request line or header line is too long');
  if (err instanceof TimeoutError || err instanceof NetTimeoutError) return new Reject(408, 'the request head took too long');
  return null;
}

/**
 * The next request, or null when the connection ended (or idled past `idleTimeout`)
 * before one began. The head must arrive within `headTimeout` of its first line.
 */
function* readRequest(conn: Stream, o: HttpOptions): Operation<Request | null> {
  const maxLine = o.maxLine ?? 8192;
  let first: string | null;
  do {
    // Tolerate empty lines between requests (RFC 9112 §2.2).
    try {
      first = yield* conn.readLine({ timeout: o.idleTimeout ?? 30_000, maxLength: maxLine });
    } catch (err) {
      if (err instanceof NetTimeoutError) return null;
      throw err;
    }
    if (first === null) return null;
  } while (first === '');
  const startLine = first;
  const headDeadline = now() + (o.headTimeout ?? 10_000);
  const m = /^([^ ]+) ([^ ]+) HTTP\/(\d\.\d)$/.exec(startLine);
  if (m === null || !TOKEN.test(m[1])) throw new Reject(400, 'malformed request line');
  const [, method, target, version] = m;
  if (version !== '1.1' && version !== '1.0') throw new Reject(505, `HTTP/${version} is not supported`);
  const headers = yield* timeout(Math.max(0, headDeadline - now()), readHeaders(conn, maxLine, o.maxHeaders ?? 100));
  if (headers.has('transfer-encoding')) throw new Reject(501, 'chunked request bodies are not supported; send Content-Length');
  let body: Buffer = EMPTY;
  const cl = headers.get('content-length');
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw new Reject(400, 'malformed Content-Length');
    const n = Number(cl);
    if (n > (o.maxBody ?? 1 << 20)) throw new Reject(413, `the body of ${n} bytes is over the limit`);
    // The body gets as long as the head did (a client trickling a body is held to it too).
    if (n > 0) body = yield* conn.readExactly(n, { timeout: o.headTimeout ?? 10_000 });
  }
  const q = target.indexOf('?');
  return {
    method,
    target,
    path: q < 0 ? target : target.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)),
    version: `HTTP/${version}`,
    headers,
    body,
  };
}

const EMPTY = Buffer.alloc(0);

function* readHeaders(conn: Stream, maxLine: number, maxHeaders: number): Operation<Map<string, string>> {
  const headers = new Map<string, string>();
  for (let count = 0; ; count++) {
    const line = yield* conn.readLine({ maxLength: maxLine });
    if (line === null) throw new Reject(0, 'the connection ended inside a request head');
    if (line === '') return headers;
    if (count === maxHeaders) throw new Reject(431, `more than ${maxHeaders} header lines`);
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new Reject(400, 'malformed header line');
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(key);
    if (key === 'content-length' && prev !== undefined && prev !== value) throw new Reject(400, 'conflicting Content-Length headers');
    headers.set(key, prev === undefined || key === 'content-length' ? value : `${prev}, ${value}`);
  }
}

function wantsKeepAlive(req: Request): boolean {
  const c = req.headers.get('connection')?.toLowerCase() ?? '';
  if (req.version === 'HTTP/1.0') return /\bkeep-alive\b/.test(c);
  return !/\bclose\b/.test(c);
}

function errorResponse(status: number, message: string): Response {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${status} ${REASONS[status] ?? ''}: ${message}\n` };
}

/** Write `res` in one system call: the head and the body together. */
function* send(conn: Stream, version: string, res: Response, keepAlive: boolean, headOnly = false): Operation<void> {
  const body = res.body === undefined ? EMPTY : typeof res.body === 'string' ? Buffer.from(res.body) : res.body;
  let head = `${version === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1'} ${res.status} ${REASONS[res.status] ?? 'Unknown'}\r\n`;
  if (res.headers !== undefined) {
    for (const [k, v] of Object.entries(res.headers)) {
      const key = k.toLowerCase();
      if (key !== 'content-length' && key !== 'connection') head += `${k}: ${v}\r\n`;
    }
  }
  head += `content-length: ${body.length}\r\nconnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  if (headOnly || body.length === 0) yield* conn.write(head);
  else yield* conn.writeAll([head, body]);
}
