// How much of channel ping-pong is the scheduler, and how much the channel? Runs three
// ping-pongs in one process, each against the core floor (floor.ts), run for run
// (harness.ts interleaved()):
// - a minimal rendezvous slot on core's suspend(): a send parks until a receiver takes
//   its value, as on channel(0), with one reused resume per fiber and one object per
//   send, but no records, wait lists, closing, select or cancellation bookkeeping;
// - channel(0) from @rioco/sync;
// - channel(0) against the minimal slot.
// Build first (pnpm build). Run: node tooling/bench/probes/rendezvous-slot.mjs [pairs]
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const core = await import(join(root, 'packages/core/dist/index.js'));
const sync = await import(join(root, 'packages/sync/dist/index.js'));
const { floorPingPong } = await import(join(root, 'tooling/bench/dist/floor.js'));
const { interleaved } = await import(join(root, 'tooling/bench/dist/harness.js'));
const { channelPingPong: makeChannelPingPong } = await import(join(root, 'tooling/bench/ab/workloads.mjs'));

const REASON = core.waitReason('probe.slot');
const DONE = { done: true, value: undefined, next() { return this; }, [Symbol.iterator]() { return this; } };
let parkingSend = null;
let parkingRecv = null;
const registerSend = (resume) => { parkingSend.sender = resume; parkingSend = null; };
const registerRecv = (resume) => { parkingRecv.receiver = resume; parkingRecv = null; };

class Slot {
  receiver = null;
  sender = null;
  value = undefined;
  sendWait = core.suspend(registerSend, { reason: REASON, internal: true, reuseResume: true });
  recvWait = core.suspend(registerRecv, { reason: REASON, internal: true, reuseResume: true });
  send(v) {
    const r = this.receiver;
    if (r !== null) {
      this.receiver = null;
      r.ok(v);
      DONE.value = undefined;
      return DONE;
    }
    this.value = v;
    parkingSend = this;
    return this.sendWait;
  }
  recv() {
    const s = this.sender;
    if (s !== null) {
      this.sender = null;
      const v = this.value;
      this.value = undefined;
      s.ok(undefined);
      DONE.value = v;
      return DONE;
    }
    parkingRecv = this;
    return this.recvWait;
  }
}
class Send {
  constructor(slot, v) { this.slot = slot; this.v = v; }
  [Symbol.iterator]() { return this.slot.send(this.v); }
}
class Recv {
  constructor(slot) { this.slot = slot; }
  [Symbol.iterator]() { return this.slot.recv(); }
}

const slotPingPong = (n) =>
  core.run(function* () {
    const ping = new Slot();
    const pong = new Slot();
    const rping = new Recv(ping);
    const rpong = new Recv(pong);
    const echo = core.spawn(function* () {
      for (let i = 0; i < n; i++) yield* new Send(pong, yield* rping);
    });
    for (let i = 0; i < n; i++) {
      yield* new Send(ping, i);
      yield* rpong;
    }
    yield* echo;
  });

const channelPingPong = makeChannelPingPong(core, sync, 0);

const pairs = Number(process.argv[2] ?? 30);
const N = 50_000;
const a = await interleaved(slotPingPong, floorPingPong, N, pairs);
const b = await interleaved(channelPingPong, floorPingPong, N, pairs);
const c = await interleaved(channelPingPong, slotPingPong, N, pairs);
const f = (r) => `${r.value.toFixed(2)}x (quartiles ${r.extra.quartiles})`;
console.log(`minimal slot / floor ${f(a)}\nchannel(0) / floor  ${f(b)}\nchannel(0) / slot   ${f(c)}`);
