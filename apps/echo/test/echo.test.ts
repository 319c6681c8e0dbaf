import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

function waitFor(stream: NodeJS.ReadableStream, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        stream.off('data', onData);
        resolve(m);
      }
    };
    stream.on('data', onData);
    stream.on('end', () => reject(new Error(`ended before ${re}: ${buf}`)));
  });
}

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
    const child = spawn(process.execPath, ['--no-deprecation', '--import', 'tsx', '--conditions=@rioco/source', join(here, '..', 'src', 'main.ts'), '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const m = await waitFor(child.stderr, /listening on [^:]+:(\d+)/);
    const port = Number(m[1]);
    const a = await echoOnce(port, 'hello fibers\n');
    expect(a.reply).toBe('hello fibers\n');
    const closed = new Promise<void>((r) => a.socket.on('close', () => r()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    await closed; // the server closed our open connection during shutdown
    expect(await exited).toBe(130);
  });
});
