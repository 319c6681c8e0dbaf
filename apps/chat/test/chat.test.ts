import { describe, expect, it } from 'vitest';
import { startApp } from '@rioco/tooling/cli';
import { fileURLToPath } from 'node:url';
import { runTest, spawn, type Operation, type Task } from '@rioco/core';
import { connect, listen, type InetAddress, type Listener, type Stream } from '@rioco/net';
import { CLOSED } from '@rioco/sync';
import { Room, serveChat, type ChatOptions } from '../src/server.js';

/** A test client: reads until it has seen what it expects. */
class Client {
  private buf = '';
  constructor(readonly conn: Stream) {}
  /** Everything up to and including the first `text` to arrive (fails if the server hangs up first). */
  *until(text: string): Operation<string> {
    for (;;) {
      const i = this.buf.indexOf(text);
      if (i >= 0) {
        const got = this.buf.slice(0, i + text.length);
        this.buf = this.buf.slice(i + text.length);
        return got;
      }
      const chunk = yield* this.conn.read();
      if (chunk === null) throw new Error(`connection ended before ${JSON.stringify(text)}; had ${JSON.stringify(this.buf)}`);
      this.buf += chunk.toString();
    }
  }
  /** The next whole line, without its newline. */
  *line(): Operation<string> {
    return (yield* this.until('\n')).slice(0, -1);
  }
  /** Read until the server closes the connection; returns what came before. */
  *end(): Operation<string> {
    for (let chunk; (chunk = yield* this.conn.read()) !== null; ) this.buf += chunk.toString();
    const rest = this.buf;
    this.buf = '';
    return rest;
  }
  *say(line: string): Operation<void> {
    yield* this.conn.write(`${line}\n`);
  }
}

function* server(options: ChatOptions = {}): Operation<{ port: number; listener: Listener; task: Task<never> }> {
  const listener = yield* listen({ host: '127.0.0.1', port: 0 });
  const task = spawn(serveChat, { args: [listener, options] });
  return { port: (listener.address as InetAddress).port, listener, task };
}

function* join(port: number, nick: string): Operation<Client> {
  const c = new Client(yield* connect({ host: '127.0.0.1', port }));
  yield* c.until('nick? ');
  yield* c.say(nick);
  expect(yield* c.line()).toMatch(new RegExp(`^welcome, ${nick}\\.`));
  return c;
}

describe('apps/chat', () => {
  it('sends every line to everyone else, with join and leave notices, and closes all on stop', () =>
    runTest(function* () {
      const s = yield* server();
      const alice = yield* join(s.port, 'alice');
      const bob = yield* join(s.port, 'bob');
      expect(yield* alice.line()).toBe('* bob joined (2 here)');
      yield* bob.say('hi all');
      expect(yield* alice.line()).toBe('<bob> hi all');
      // bob's own line is not echoed to him: the next thing he sees is the /who reply.
      yield* bob.say('/who');
      expect(yield* bob.line()).toBe('* here: alice, bob');
      yield* bob.say('/quit');
      expect(yield* bob.end()).toBe('');
      expect(yield* alice.line()).toBe('* bob left');
      // Stopping the server ends every session and closes its socket.
      yield* s.task.halt();
      expect(yield* alice.end()).toBe('');
      alice.conn.close();
      bob.conn.close();
      s.listener.close();
    }));

  it('refuses a taken or malformed nick and asks again', () =>
    runTest(function* () {
      const s = yield* server();
      const alice = yield* join(s.port, 'alice');
      const c = new Client(yield* connect({ host: '127.0.0.1', port: s.port }));
      yield* c.until('nick? ');
      yield* c.say('alice');
      expect(yield* c.until('nick? ')).toBe('"alice" is taken; nick? ');
      yield* c.say('no spaces allowed');
      expect(yield* c.until('nick? ')).toBe('a nick is 1-16 letters, digits, _ or -; nick? ');
      yield* c.say('carol');
      expect(yield* c.line()).toMatch(/^welcome, carol\. 1 other\(s\) here\./);
      expect(yield* alice.line()).toBe('* carol joined (2 here)');
      yield* s.task.halt();
      for (const x of [alice, c]) x.conn.close();
      s.listener.close();
    }));

  it('renames with /nick, explains unknown commands, and kicks', () =>
    runTest(function* () {
      const room = new Room();
      const s = yield* server({ room });
      const alice = yield* join(s.port, 'alice');
      const bob = yield* join(s.port, 'bob');
      yield* alice.line(); // bob joined
      yield* bob.say('/nick robert');
      expect(yield* alice.line()).toBe('* bob is now robert');
      expect(yield* bob.line()).toBe('* bob is now robert');
      yield* bob.say('/nick alice');
      expect(yield* bob.line()).toBe('* "alice" is taken');
      yield* bob.say('/dance');
      expect(yield* bob.line()).toMatch(/^\* unknown command \/dance; commands:/);
      expect(room.nicks()).toEqual(['alice', 'robert']);
      expect(room.kick('robert')).toBe(true);
      expect(room.kick('robert')).toBe(false);
      expect(yield* bob.end()).toBe('');
      expect(yield* alice.line()).toBe('* robert was kicked');
      expect(room.nicks()).toEqual(['alice']);
      yield* s.task.halt();
      for (const x of [alice, bob]) x.conn.close();
      s.listener.close();
    }));

  it('lets go of a client that sends no nick in time, and of one whose line is too long', () =>
    runTest(function* () {
      const s = yield* server({ nickTimeout: 20, maxLine: 16 });
      const mute = new Client(yield* connect({ host: '127.0.0.1', port: s.port }));
      expect(yield* mute.end()).toBe('nick? \ntoo slow; bye\n');
      const chatty = yield* join(s.port, 'chatty');
      yield* chatty.say('x'.repeat(40));
      expect(yield* chatty.end()).toBe('* line longer than 16 bytes; bye\n');
      yield* s.task.halt();
      for (const x of [mute, chatty]) x.conn.close();
      s.listener.close();
    }));
});

describe('Room', () => {
  it('drops a member whose outbox is full; the others still get every line', () => {
    const room = new Room(2);
    const dropped: string[] = [];
    const a = room.join('a', (why) => dropped.push(`a: ${why}`));
    const b = room.join('b', (why) => dropped.push(`b: ${why}`)); // a's outbox: "b joined"
    room.broadcast(null, 'one\n'); // a's outbox is now full
    expect(b.outbox.tryRecv()).toBe('one\n');
    room.broadcast(b, 'two\n'); // a cannot take it: a is dropped
    expect(dropped).toEqual(['a: too slow: your outbox filled up']);
    expect(room.nicks()).toEqual(['b']);
    expect(b.outbox.tryRecv()).toBe('* a was dropped (not reading)\n');
    // a keeps what was queued before the drop, then sees its outbox closed.
    expect([a.outbox.tryRecv(), a.outbox.tryRecv(), a.outbox.tryRecv()]).toEqual(['* b joined (2 here)\n', 'one\n', CLOSED]);
    room.leave(a); // already gone: nothing happens
    expect(room.nicks()).toEqual(['b']);
  });

  it('rejects a bad outbox size', () => {
    expect(() => new Room(0)).toThrow(RangeError);
  });
});

describe('apps/chat main', () => {
  it('serves on an ephemeral port and exits 130 on SIGINT, closing sessions', async () => {
    const app = await startApp(fileURLToPath(new URL('../src/main.ts', import.meta.url)), /listening on [^:]+:(\d+)/);
    await runTest(function* () {
      const c = yield* join(app.port, 'dora');
      app.child.kill('SIGINT');
      expect(yield* c.end()).toBe('');
      c.conn.close();
    });
    expect(await app.exited).toBe(130);
    expect(app.stderr).toMatch(/dora joined/);
    expect(app.stderr).toMatch(/stopped; every session has ended/);
  });
});
