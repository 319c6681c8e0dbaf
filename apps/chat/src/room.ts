/**
 * The chat room: who is in it, and fan-out of every line to everyone else.
 *
 * Fan-out never blocks the sender: each member has a bounded outbox (a channel) that its
 * writer fiber drains onto the socket, and `broadcast` only `trySend`s into it. A member
 * whose outbox is full is not reading fast enough; it is dropped (its session is
 * cancelled, which closes its socket) rather than letting one slow client hold everyone
 * back or grow memory without bound.
 *
 * Invariants: `members` holds exactly the members that joined and have not left; a
 * nick maps to one member; a dropped member is removed at once (its session's `leave`
 * then finds it gone and does nothing).
 */
import { channel, type Channel } from '@rioco/sync';

/** One connected, named participant. */
export interface Member {
  nick: string;
  /** Lines waiting for this member's writer fiber. */
  readonly outbox: Channel<string>;
  /** Called once when the room drops the member; cancels its session. */
  readonly drop: (reason: string) => void;
}

/** Nicks: 1–16 letters, digits, `_` or `-`. */
export const NICK = /^[A-Za-z0-9_-]{1,16}$/;

export class Room {
  private readonly members = new Map<string, Member>();
  /** Lines a member's outbox holds before the member counts as too slow. */
  readonly outboxSize: number;

  constructor(outboxSize = 256) {
    if (!Number.isInteger(outboxSize) || outboxSize < 1) throw new RangeError(`outboxSize must be an integer >= 1, got ${outboxSize}`);
    this.outboxSize = outboxSize;
  }

  get size(): number {
    return this.members.size;
  }

  /** Nicks in the room, sorted. */
  nicks(): string[] {
    return [...this.members.keys()].sort();
  }

  /** Why `nick` cannot join (or be renamed to), or null if it can. */
  refuse(nick: string): string | null {
    if (!NICK.test(nick)) return 'a nick is 1-16 letters, digits, _ or -';
    if (this.members.has(nick)) return `"${nick}" is taken`;
    return null;
  }

  /** Add a member (the caller checked `refuse`) and tell the others. */
  join(nick: string, drop: (reason: string) => void): Member {
    const m: Member = { nick, outbox: channel<string>(this.outboxSize, { name: `outbox ${nick}` }), drop };
    this.members.set(nick, m);
    this.broadcast(m, `* ${nick} joined (${this.members.size} here)\n`);
    return m;
  }

  /** Rename `m` (the caller checked `refuse`) and tell everyone. */
  rename(m: Member, nick: string): void {
    const old = m.nick;
    this.members.delete(old);
    m.nick = nick;
    this.members.set(nick, m);
    this.broadcast(null, `* ${old} is now ${nick}\n`);
  }

  /** Remove `m` if still present, close its outbox, and tell the others. */
  leave(m: Member, why = 'left'): void {
    if (this.members.get(m.nick) !== m) return;
    this.members.delete(m.nick);
    m.outbox.close();
    this.broadcast(null, `* ${m.nick} ${why}\n`);
  }

  /** Queue `line` for every member except `from`; drop those whose outbox is full. */
  broadcast(from: Member | null, line: string): void {
    let slow: Member[] | null = null;
    for (const m of this.members.values()) {
      if (m === from) continue;
      if (!m.outbox.trySend(line)) (slow ??= []).push(m);
    }
    if (slow !== null) for (const m of slow) this.kick(m.nick, 'was dropped (not reading)', 'too slow: your outbox filled up');
  }

  /** Remove `nick` (telling the others `* nick <notice>`) and end its session; false if absent. */
  kick(nick: string, notice = 'was kicked', reason = 'kicked'): boolean {
    const m = this.members.get(nick);
    if (m === undefined) return false;
    this.leave(m, notice);
    m.drop(reason);
    return true;
  }

  /** Queue `line` for `m` alone (replies to commands); false if its outbox is full. */
  tell(m: Member, line: string): boolean {
    return m.outbox.trySend(line);
  }
}
