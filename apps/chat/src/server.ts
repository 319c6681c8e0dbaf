/**
 * The chat server as an operation: `yield* serveChat(listener)` accepts connections
 * until cancelled, each in its own session fiber. `main.ts` runs it from the command line;
 * tests run it in-process.
 *
 * A session (one per connection) is two fibers: the session fiber reads lines and acts
 * on them, and a child writer fiber drains the member's outbox onto the socket, so a
 * slow socket never stalls the reader or the room. Structured concurrency does the
 * cleanup: the stream is adopted by the session, so it closes when the session ends for
 * any reason (the client left, an error, the room dropped it, the server was stopped),
 * and the writer, a child, ends first.
 *
 * Protocol (lines of UTF-8): the server asks for a nick; then every line is sent to the
 * others as `<nick> line`, except the commands `/who`, `/nick NEW`, `/quit`, `/help`.
 */
import { spawn, type Operation } from '@rioco/core';
import { CLOSED } from '@rioco/sync';
import { LineTooLongError, NetError, TimeoutError, type Listener, type SocketAddress, type Stream } from '@rioco/net';
import { Room, type Member } from './room.js';

export { Room, NICK, type Member } from './room.js';

/** Options of {@link serveChat}. */
export interface ChatOptions {
  /** The room to serve (default: a new one). */
  room?: Room;
  /** How long a new connection may take to send its nick, in ms (default 60 000). */
  nickTimeout?: number;
  /** Longest accepted line, in bytes (default 4096). */
  maxLine?: number;
  /** Called with a line for the server's log (default: nothing). */
  log?: (line: string) => void;
}

const HELP = 'commands: /who  /nick NEW  /quit  /help\n';

/** Accept connections on `listener` until cancelled; one session fiber each. */
export function* serveChat(listener: Listener, options: ChatOptions = {}): Operation<never> {
  const room = options.room ?? new Room();
  const log = options.log ?? ((): void => {});
  return yield* listener.serve((conn) => session(conn, room, options, log), {
    name: 'chat session',
    onTooManyOpenFiles: () => log('out of file descriptors; accepting again in 100 ms'),
  });
}

function* session(conn: Stream, room: Room, options: ChatOptions, log: (line: string) => void): Operation<void> {
  // serve() runs each session in a fiber of its own that owns `conn`: it closes when the session ends.
  const maxLength = options.maxLine ?? 4096;
  let member: Member | null = null;
  try {
    const nick = yield* askNick(conn, room, options.nickTimeout ?? 60_000, maxLength);
    if (nick === null) return;
    member = room.join(nick, (reason) => {
      log(`dropping ${nick}: ${reason}`);
      conn.close(); // the reader sees the socket closed and the session ends
    });
    log(`${nick} joined from ${peer(conn.remoteAddress)}`);
    spawn(writer, { args: [conn, member], name: `chat writer ${nick}` });
    room.tell(member, `welcome, ${nick}. ${room.size - 1} other(s) here. ${HELP}`);
    for (;;) {
      const line = yield* conn.readLine({ maxLength });
      if (line === null) break;
      if (!command(room, member, line.trimEnd())) break;
    }
  } catch (err) {
    if (err instanceof LineTooLongError) {
      if (member !== null) room.tell(member, `* line longer than ${maxLength} bytes; bye\n`);
    } else if (!(err instanceof NetError)) {
      throw err;
    }
    // A connection that resets or is closed under us ends only its own session.
  } finally {
    if (member !== null) {
      room.leave(member); // closes the outbox: the writer drains it and ends
      log(`${member.nick} left`);
    }
  }
}

function peer(a: SocketAddress): string {
  return a.family === 'unix' ? 'a Unix socket' : `${a.address}:${a.port}`;
}

/** Ask for a nick until a free one arrives; null if the client left or took too long. */
function* askNick(conn: Stream, room: Room, timeout: number, maxLength: number): Operation<string | null> {
  yield* conn.write('nick? ');
  for (;;) {
    let line: string | null;
    try {
      line = yield* conn.readLine({ timeout, maxLength });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      yield* conn.write('\ntoo slow; bye\n');
      return null;
    }
    if (line === null) return null;
    const nick = line.trim();
    const why = room.refuse(nick);
    if (why === null) return nick;
    yield* conn.write(`${why}; nick? `);
  }
}

/** Run one line from `m`; false when the session should end. */
function command(room: Room, m: Member, line: string): boolean {
  if (line === '') return true;
  if (!line.startsWith('/')) {
    room.broadcast(m, `<${m.nick}> ${line}\n`);
    return true;
  }
  const [cmd, arg = ''] = line.split(/\s+/, 2);
  switch (cmd) {
    case '/quit':
      return false;
    case '/who':
      room.tell(m, `* here: ${room.nicks().join(', ')}\n`);
      return true;
    case '/nick': {
      const why = room.refuse(arg);
      if (why === null) room.rename(m, arg);
      else room.tell(m, `* ${why}\n`);
      return true;
    }
    case '/help':
      room.tell(m, HELP);
      return true;
    default:
      room.tell(m, `* unknown command ${cmd}; ${HELP}`);
      return true;
  }
}

/** Drain `m`'s outbox onto the socket until the room closes the outbox. */
function* writer(conn: Stream, m: Member): Operation<void> {
  try {
    for (let line; (line = yield* m.outbox.recvOrClosed()) !== CLOSED; ) yield* conn.write(line);
  } catch (err) {
    if (!(err instanceof NetError)) throw err;
    // The socket went away: the reader sees that too and ends the session.
  }
}
