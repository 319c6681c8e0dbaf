import { describe, expect, it } from 'vitest';
import { startApp } from '@rioco/tooling/cli';
import { fileURLToPath } from 'node:url';
import { runTest, spawn, wait, type Operation, type Task } from '@rioco/core';
import { connect, listen, type InetAddress, type Listener, type Stream } from '@rioco/net';
import { serveHttp, type HttpOptions, type HttpStats, type Request, type Response } from '../src/http.js';
import { routes } from '../src/routes.js';

interface Server {
  port: number;
  listener: Listener;
  task: Task<never>;
  stats: HttpStats;
}

function* server(options: HttpOptions = {}, onRequest?: (req: Request) => void): Operation<Server> {
  const listener = yield* listen({ host: '127.0.0.1', port: 0 });
  const stats: HttpStats = { connections: 0, accepted: 0, requests: 0, rejected: 0 };
  const inner = routes(stats);
  const handler = (req: Request): Operation<Response> => {
    onRequest?.(req);
    return inner(req);
  };
  const task = spawn(serveHttp, { args: [listener, handler, options, stats] });
  return { port: (listener.address as InetAddress).port, listener, task, stats };
}

function* stop(s: Server, ...conns: Stream[]): Operation<void> {
  yield* s.task.halt();
  for (const c of conns) c.close();
  s.listener.close();
}

interface Reply {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Read one response (Content-Length framed) from `conn`. */
function* response(conn: Stream, head = false): Operation<Reply> {
  const statusLine = yield* conn.readLine();
  if (statusLine === null) throw new Error('no response: the connection ended');
  const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1]);
  const headers = new Map<string, string>();
  for (let line; (line = yield* conn.readLine()) !== ''; ) {
    if (line === null) throw new Error('the connection ended inside a response head');
    const i = line.indexOf(':');
    headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  const n = Number(headers.get('content-length') ?? 0);
  const body = n > 0 && !head ? (yield* conn.readExactly(n)).toString() : '';
  return { status, headers, body };
}

function* open(s: Server): Operation<Stream> {
  return yield* connect({ host: '127.0.0.1', port: s.port });
}

describe('apps/http', () => {
  it('serves several requests on one keep-alive connection, pipelined or not', () =>
    runTest(function* () {
      const s = yield* server();
      const c = yield* open(s);
      yield* c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const a = yield* response(c);
      expect(a.status).toBe(200);
      expect(a.body).toMatch(/^hello from fiber \d+\n$/);
      expect(a.headers.get('connection')).toBe('keep-alive');
      // Three requests in one write: answered in order on the same connection.
      yield* c.write('GET /sleep?ms=5 HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /nope HTTP/1.1\r\n\r\n');
      const [b, e, n] = [yield* response(c), yield* response(c), yield* response(c)];
      expect([b.status, b.body]).toEqual([200, 'slept 5 ms\n']);
      expect([e.status, e.body]).toEqual([200, 'hello']);
      expect([n.status, n.body]).toEqual([404, 'no route for /nope\n']);
      expect(s.stats).toMatchObject({ accepted: 1, requests: 4, rejected: 0 });
      yield* stop(s, c);
    }));

  it('closes after Connection: close and after an HTTP/1.0 request; HEAD has no body', () =>
    runTest(function* () {
      const s = yield* server();
      const a = yield* open(s);
      yield* a.write('HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n');
      const h = yield* response(a, true);
      expect(h.status).toBe(200);
      expect(Number(h.headers.get('content-length'))).toBeGreaterThan(0);
      expect(h.headers.get('connection')).toBe('close');
      expect(yield* a.read()).toBe(null); // no body bytes, then the end
      const b = yield* open(s);
      yield* b.write('GET / HTTP/1.0\r\n\r\n');
      expect((yield* response(b)).headers.get('connection')).toBe('close');
      expect(yield* b.read()).toBe(null);
      yield* stop(s, a, b);
    }));

  it('answers malformed and oversized requests with an error and closes', () =>
    runTest(function* () {
      const s = yield* server({ maxBody: 8, maxLine: 64, maxHeaders: 2 });
      const cases: Array<[string, number]> = [
        ['garbage\r\n\r\n', 400],
        ['GET / HTTP/2.0\r\n\r\n', 505],
        ['POST /echo HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789', 413],
        ['POST /echo HTTP/1.1\r\nContent-Length: nine\r\n\r\n', 400],
        ['POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
        [`GET /${'x'.repeat(100)} HTTP/1.1\r\n\r\n`, 431],
        ['GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n', 431],
        ['GET / HTTP/1.1\r\nbad header\r\n\r\n', 400],
      ];
      const conns: Stream[] = [];
      for (const [req, status] of cases) {
        const c = yield* open(s);
        conns.push(c);
        yield* c.write(req);
        const r = yield* response(c);
        expect([req, r.status, r.headers.get('connection')]).toEqual([req, status, 'close']);
        expect(yield* c.read()).toBe(null);
      }
      expect(s.stats.rejected).toBe(cases.length);
      yield* stop(s, ...conns);
    }));

  it('gives a slow request head or body 408 and drops an idle keep-alive connection', () =>
    runTest(function* () {
      const s = yield* server({ headTimeout: 20, idleTimeout: 20 });
      const slow = yield* open(s);
      yield* slow.write('GET / HTTP/1.1\r\n'); // and never the rest
      expect((yield* response(slow)).status).toBe(408);
      const trickle = yield* open(s);
      yield* trickle.write('POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nhalf'); // and never the rest
      expect((yield* response(trickle)).status).toBe(408);
      const idle = yield* open(s);
      yield* idle.write('GET / HTTP/1.1\r\n\r\n');
      expect((yield* response(idle)).status).toBe(200);
      expect(yield* idle.read()).toBe(null); // closed once idle past 20 ms
      yield* stop(s, slow, trickle, idle);
    }));

  it('answers fetch() from plain async code; stopping cancels a request mid-sleep', () =>
    runTest(function* () {
      let sleeping!: () => void;
      const inSleep = new Promise<void>((resolve) => (sleeping = resolve));
      const s = yield* server({}, (req) => {
        if (req.path === '/sleep') sleeping();
      });
      const res = yield* wait(fetch(`http://127.0.0.1:${s.port}/stats`));
      expect(res.status).toBe(200);
      expect(yield* wait(res.json())).toMatchObject({ accepted: 1, requests: 1 });
      const c = yield* open(s);
      yield* c.write('GET /sleep?ms=10000 HTTP/1.1\r\n\r\n');
      yield* wait(inSleep); // the request was read whole and its handler runs
      yield* s.task.halt(); // the sleeping handler is cancelled, its connection closed
      expect(yield* c.read()).toBe(null);
      yield* stop(s, c);
    }));
});

describe('apps/http main', () => {
  it('serves on an ephemeral port and exits 130 on SIGINT', async () => {
    const app = await startApp(fileURLToPath(new URL('../src/main.ts', import.meta.url)), /listening on http:\/\/[^:]+:(\d+)\//);
    const res = await fetch(`http://127.0.0.1:${app.port}/echo`, { method: 'POST', body: 'round trip' });
    expect(await res.text()).toBe('round trip');
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(130);
    expect(app.stderr).toMatch(/stopped after 1 request\(s\) on 1 connection\(s\)/);
  });
});
