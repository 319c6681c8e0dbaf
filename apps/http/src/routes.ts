/** The demo's routes (see main.ts). */
import { currentFiber, type Operation } from '@rioco/core';
import { sleep } from '@rioco/timers';
import type { HttpStats, Request, Response } from './http.js';

const text = (status: number, body: string): Response => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });

/** The handler of the demo server; `stats` is what GET /stats shows. */
export function routes(stats: HttpStats): (req: Request) => Operation<Response> {
  return function* (req) {
    const get = req.method === 'GET' || req.method === 'HEAD';
    switch (req.path) {
      case '/':
        return get ? text(200, `hello from fiber ${currentFiber()?.id ?? 0}\n`) : text(405, 'use GET\n');
      case '/sleep': {
        if (!get) return text(405, 'use GET\n');
        const ms = Number(req.query.get('ms') ?? '0');
        if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) return text(400, 'ms must be an integer from 0 to 10000\n');
        yield* sleep(ms);
        return text(200, `slept ${ms} ms\n`);
      }
      case '/stats':
        return get ? { status: 200, headers: { 'content-type': 'application/json' }, body: `${JSON.stringify(stats)}\n` } : text(405, 'use GET\n');
      case '/echo':
        return req.method === 'POST'
          ? { status: 200, headers: { 'content-type': req.headers.get('content-type') ?? 'application/octet-stream' }, body: req.body }
          : text(405, 'use POST\n');
      default:
        return text(404, `no route for ${req.path}\n`);
    }
  };
}

