import { describe, it, expect } from 'vitest';
import { startApp } from '@rioco/tooling/cli';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

function echoOnce(port: number, text: string): Promise<{ reply: string; socket: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(text));
    let reply = '';
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.length >= text.length) resolve({ reply, socket });
    });
    socket.on('error', reject);
  });
}

describe('apps/echo', () => {
  it('echoes on an ephemeral port and shuts down gracefully on SIGINT, closing connections', async () => {
    const app = await startApp(join(here, '..', 'src', 'main.ts'), /listening on [^:]+:(\d+)/);
    const a = await echoOnce(app.port, 'hello fibers\n');
    expect(a.reply).toBe('hello fibers\n');
    const closed = new Promise<void>((r) => a.socket.on('close', () => r()));
    app.child.kill('SIGINT');
    await closed; // the server closed our open connection during shutdown
    expect(await app.exited).toBe(130);
  });
});
