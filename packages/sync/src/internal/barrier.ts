/**
 * Barrier implementation: a count of parked arrivals and a FIFO list of them.
 *
 * Invariants:
 * - `arrived === q.size` between operations: an arrival is counted in register (only
 *   when the fiber really parks) and uncounted by `withdraw` when a parked fiber is
 *   cancelled, so a cancelled waiter never counts toward the next trip;
 * - the n-th arrival trips the barrier without parking: it resets the count (starting
 *   the next generation) and wakes every parked arrival, then returns `true` (the
 *   leader); the others return `false`.
 */
import { InvalidArgumentError, suspend, waitReason, type Instruction, type Operation, type Suspension } from '@rioco/core';
import type { Barrier as PublicBarrier } from '../Barrier.js';
import type { MutexOptions } from '../Mutex.js';
import { WaitList } from './list.js';
import { checkName } from './mutex.js';
import { Waiter, registerWaiter, type WaitOwner } from './waiter.js';
import { pinMaps } from './maps.js';

const WAIT = waitReason('barrier.wait');

export class Barrier implements PublicBarrier, WaitOwner {
  readonly name: string | undefined;
  readonly parties: number;
  readonly q = new WaitList<Waiter>();
  arrived = 0;
  generation = 0;
  readonly susp: Suspension<unknown>;

  constructor(parties: number, options?: MutexOptions) {
    if (typeof parties !== 'number' || !Number.isInteger(parties) || parties < 1) {
      throw new InvalidArgumentError(`a barrier needs an integer number of parties >= 1, got ${String(parties)}`);
    }
    this.parties = parties;
    this.name = checkName(options, 'Barrier');
    this.susp = suspend(registerWaiter, { reason: WAIT, target: this, internal: true }) as Suspension<unknown>;
  }

  get waiting(): number {
    return this.arrived;
  }

  wait(): Operation<boolean> {
    return barrierWait(this);
  }

  parked(): void {
    this.arrived++;
  }

  withdraw(): void {
    this.arrived--;
  }

  abandon(): void {}

  toString(): string {
    return `Barrier(${this.name ?? this.parties})`;
  }
}

function* barrierWait(b: Barrier): Generator<Instruction, boolean, unknown> {
  if (b.arrived + 1 >= b.parties) {
    b.arrived = 0;
    b.generation++;
    let w: Waiter | null;
    while ((w = b.q.shift()) !== null) w.grant(false, false);
    return true;
  }
  return (yield* new Waiter(b, b.susp)) as boolean;
}

// Pin the map (see maps.ts).
pinMaps(new Barrier(1, { name: 'pinned' }));
