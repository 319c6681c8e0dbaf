import { describe, it, expect } from 'vitest';
import { runTest, spawn } from '@rioco/core';
import { InvalidArgumentError } from '@rioco/core';
import { inspect } from 'node:util';
import {
  AbortedError,
  NetError,
  ReadInProgressError,
  SocketClosedError,
  TimeoutError,
  bindUdp,
  type UdpSocket,
} from '@rioco/net';
import { SteppedClock, abortedWhileParked, catching, openFds, timesOutAt, turn, until, waitingOn } from './helpers.js';

/** Datagrams queued for the socket's next recv (white-box). */
function queuedOn(s: UdpSocket): number {
  return (s as unknown as { u: { queued: number } }).u.queued;
}

// UDP runs on node:dgram only (there is no native UDP driver), so no loop over DRIVERS.
describe('UdpSocket', () => {
  it('sends and receives datagrams with their sender, and replies to it', () =>
    runTest(function* () {
      using a = yield* bindUdp({ host: '127.0.0.1' });
      using b = yield* bindUdp({ host: '127.0.0.1' });
      expect(a.localAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.1' });
      expect(a.localAddress.port).toBeGreaterThan(0);
      yield* a.send(b.localAddress, 'ping');
      const d = yield* b.recv({ timeout: 5_000 });
      expect(d.bytes.toString()).toBe('ping');
      expect(d.from).toEqual(a.localAddress);
      yield* b.send(d.from, Buffer.from('pong'));
      expect((yield* a.recv({ timeout: 5_000 })).bytes.toString()).toBe('pong');
    }));

  it('a recv that times out (at its deadline) or is cancelled loses no datagram: the next recvs get them, in order', () => {
    // Virtual time: it moves only when the test advances it (the recv is an external wait).
    const clock = new SteppedClock();
    return runTest(
      function* () {
        using a = yield* bindUdp({ host: '127.0.0.1' });
        using b = yield* bindUdp({ host: '127.0.0.1' });
        yield* timesOutAt(clock, 20, 'net.udp.recv', () => b.recv({ timeout: 20 }));
        const r = spawn(function* () {
          return yield* b.recv();
        });
        yield* until(() => waitingOn(r.id) === 'net.udp.recv', 'the receiver to park');
        const e = yield* catching(b.recv());
        expect(e).toBeInstanceOf(ReadInProgressError);
        yield* r.halt();
        yield* a.send(b.localAddress, 'one');
        yield* a.send(b.localAddress, 'two');
        const one = yield* b.recv({ timeout: 5_000 });
        expect(one.bytes.toString()).toBe('one');
        expect(one.from).toEqual(a.localAddress);
        expect((yield* b.recv({ timeout: 5_000 })).bytes.toString()).toBe('two');
        expect(b.droppedDatagrams).toBe(0);
      },
      { clock },
    );
  });

  it('keeps at most maxQueued datagrams for a fiber that is not receiving, counting the rest', () =>
    runTest(function* () {
      using a = yield* bindUdp({ host: '127.0.0.1' });
      using b = yield* bindUdp({ host: '127.0.0.1', maxQueued: 2 });
      for (let i = 0; i < 5; i++) yield* a.send(b.localAddress, `d${i}`);
      yield* until(() => b.droppedDatagrams === 3, 'three drops');
      expect((yield* b.recv()).bytes.toString()).toBe('d0');
      expect((yield* b.recv()).bytes.toString()).toBe('d1');
      expect(yield* catching(b.recv({ timeout: 0 }))).toBeInstanceOf(TimeoutError);
    }));

  it('close() fails a parked receiver; the socket closes when its fiber ends', () =>
    runTest(function* () {
      const b = yield* bindUdp({ host: '127.0.0.1' });
      const r = spawn(function* () {
        return yield* catching(b.recv());
      });
      yield* turn();
      b.close();
      expect(yield* r).toBeInstanceOf(SocketClosedError);
      expect(yield* catching(b.send({ address: '127.0.0.1', port: 9 }, 'x'))).toBeInstanceOf(SocketClosedError);
      const inner = yield* spawn(function* () {
        return yield* bindUdp({ host: '127.0.0.1' });
      });
      expect(inner.closed).toBe(true);
    }));

  it('a socket bound inside a fiber is closed when the fiber ends, and its port can be bound again', () =>
    runTest(function* () {
      const before = openFds();
      let inner: UdpSocket | undefined;
      const port = yield* spawn(function* () {
        inner = yield* bindUdp({ host: '127.0.0.1' });
        return inner.localAddress.port;
      });
      expect(inner!.closed).toBe(true);
      expect(yield* catching(inner!.recv())).toBeInstanceOf(SocketClosedError);
      // The port was released: binding it again (no reuseAddr) succeeds.
      using again = yield* bindUdp({ host: '127.0.0.1', port });
      expect(again.localAddress.port).toBe(port);
      // And the new socket works there.
      using a = yield* bindUdp({ host: '127.0.0.1' });
      yield* a.send({ address: '127.0.0.1', port }, 'to the same port');
      expect((yield* again.recv()).bytes.toString()).toBe('to the same port');
      again.close();
      a.close();
      yield* until(() => openFds() === before, 'every descriptor to be released');
    }));

  it('a recv aborted through its signal fails with AbortedError and loses no datagram', () =>
    runTest(function* () {
      using a = yield* bindUdp({ host: '127.0.0.1' });
      using b = yield* bindUdp({ host: '127.0.0.1' });
      const aborted = yield* abortedWhileParked('net.udp.recv', (signal) => b.recv({ signal }));
      // Datagrams sent after the abort are all there for the next recvs, in order; a recv
      // with the already aborted signal fails at once and takes none of them.
      yield* a.send(b.localAddress, 'one');
      yield* until(() => queuedOn(b) === 1, 'the datagram to be queued');
      expect(yield* catching(b.recv({ signal: aborted }))).toBeInstanceOf(AbortedError);
      yield* a.send(b.localAddress, 'two');
      expect((yield* b.recv()).bytes.toString()).toBe('one');
      expect((yield* b.recv()).bytes.toString()).toBe('two');
      expect(b.droppedDatagrams).toBe(0);
    }));

  it('broadcast and multicast options', () =>
    runTest(function* () {
      using s = yield* bindUdp({ host: '0.0.0.0', broadcast: true, multicastTtl: 1, multicastLoopback: true });
      s.setBroadcast(false);
      s.setTtl(8);
      using r = yield* bindUdp({ host: '0.0.0.0', reuseAddr: true });
      try {
        r.addMembership('239.255.77.1', '127.0.0.1');
        s.setMulticastInterface('127.0.0.1');
      } catch (e) {
        // No multicast on this loopback interface: the options above were still applied.
        expect(e).toBeInstanceOf(NetError);
        return;
      }
      yield* s.send({ address: '239.255.77.1', port: r.localAddress.port }, 'to the group');
      expect((yield* r.recv({ timeout: 5_000 })).bytes.toString()).toBe('to the group');
      r.dropMembership('239.255.77.1', '127.0.0.1');
    }));

  it('rejects bad bind options and setter arguments with InvalidArgumentError, before any socket or system call', () =>
    runTest(function* () {
      const before = openFds();
      const badBind: Array<[object, RegExp]> = [
        [{ multicastTtl: 256 }, /multicastTtl must be an integer from 0 to 255/],
        [{ multicastTtl: -1 }, /multicastTtl/],
        [{ multicastTtl: 1.5 }, /multicastTtl/],
        [{ multicastTtl: '1' }, /multicastTtl/],
        [{ recvBufferSize: 0 }, /recvBufferSize must be an integer from 1/],
        [{ recvBufferSize: -1 }, /recvBufferSize/],
        [{ recvBufferSize: 1.5 }, /recvBufferSize/],
        [{ recvBufferSize: '65536' }, /recvBufferSize/],
        [{ sendBufferSize: 0 }, /sendBufferSize must be an integer from 1/],
        [{ sendBufferSize: Infinity }, /sendBufferSize/],
        [{ multicastInterface: 5 }, /multicastInterface must be a non-empty string/],
        [{ multicastInterface: '' }, /multicastInterface/],
        [{ broadcast: 'yes' }, /broadcast must be a boolean/],
        [{ reuseAddr: 1 }, /reuseAddr must be a boolean/],
        [{ ipv6Only: 'no' }, /ipv6Only must be a boolean/],
        [{ multicastLoopback: 0 }, /multicastLoopback must be a boolean/],
      ];
      for (const [o, msg] of badBind) {
        const call = (): unknown => bindUdp({ host: '127.0.0.1', ...o });
        expect(call, inspect(o)).toThrow(InvalidArgumentError);
        expect(call, inspect(o)).toThrow(msg);
      }
      expect(openFds()).toBe(before); // thrown at the call: no socket was made

      using s = yield* bindUdp({ host: '127.0.0.1' });
      using r = yield* bindUdp({ host: '127.0.0.1' });
      const any = s as unknown as Record<string, (...args: unknown[]) => void>;
      const badCalls: Array<[string, unknown[], RegExp]> = [
        ['setTtl', [0], /setTtl: ttl must be an integer from 1 to 255/],
        ['setTtl', [256], /setTtl: ttl/],
        ['setTtl', ['8'], /setTtl: ttl/],
        ['setTtl', [], /setTtl: ttl/],
        ['setMulticastTtl', [256], /setMulticastTtl: ttl must be an integer from 0 to 255/],
        ['setMulticastTtl', [-1], /setMulticastTtl: ttl/],
        ['setMulticastTtl', [1.5], /setMulticastTtl: ttl/],
        ['setMulticastInterface', [5], /setMulticastInterface: iface must be a non-empty string/],
        ['setMulticastInterface', [undefined], /setMulticastInterface: iface/],
        ['addMembership', [5], /addMembership: group must be an IP address/],
        ['addMembership', ['not-an-ip'], /addMembership: group must be an IP address/],
        ['addMembership', ['239.255.77.1', 'eth0'], /addMembership: iface must be an IP address/],
        ['dropMembership', [undefined], /dropMembership: group must be an IP address/],
        ['dropMembership', ['239.255.77.1', 7], /dropMembership: iface/],
        ['setBroadcast', ['yes'], /setBroadcast: on must be a boolean/],
        ['setMulticastLoopback', [1], /setMulticastLoopback: on must be a boolean/],
      ];
      for (const [method, args, msg] of badCalls) {
        const call = (): unknown => any[method].apply(s, args);
        expect(call, `${method}(${args.map((a) => inspect(a)).join(', ')})`).toThrow(InvalidArgumentError);
        expect(call, method).toThrow(msg);
      }
      // The edges of the ranges are fine, and the socket still works.
      s.setTtl(1);
      s.setTtl(255);
      s.setMulticastTtl(0);
      s.setMulticastTtl(255);
      yield* s.send(r.localAddress, 'still fine');
      expect((yield* r.recv({ timeout: 5_000 })).bytes.toString()).toBe('still fine');
    }));

  it('rejects bad input', () =>
    runTest(function* () {
      using s = yield* bindUdp({ host: '127.0.0.1' });
      expect(() => s.send({ address: '127.0.0.1', port: 0 }, 'x')).toThrow(InvalidArgumentError);
      expect(() => s.send({ address: '', port: 9 }, 'x')).toThrow(InvalidArgumentError);
      expect(() => s.send({ address: '127.0.0.1', port: 9 }, 5 as unknown as string)).toThrow(InvalidArgumentError);
      expect(() => bindUdp({ type: 'udp5' as 'udp4' })).toThrow(InvalidArgumentError);
      expect(() => bindUdp({ maxQueued: 0 })).toThrow(InvalidArgumentError);
      expect(() => s.recv({ timeout: -5 })).toThrow(InvalidArgumentError);
      const e = yield* catching(s.send({ address: '127.0.0.1', port: 9 }, Buffer.alloc(70_000)));
      expect(e).toBeInstanceOf(NetError);
      expect((e as NetError).syscallCode).toBe('EMSGSIZE');
    }));
});
