/**
 * WaitGroup implementation: a counter and a FIFO list of fibers waiting for it to reach
 * zero.
 *
 * Invariants: `count >= 0` always (a change that would make it negative throws before
 * changing anything); waiters are linked only while `count > 0`; the change that brings
 * it to zero wakes all of them at once.
 */
import { InvalidArgumentError, suspend, waitReason, type Instruction, type Operation, type Suspension } from '@rioco/core';
import type { WaitGroup as PublicWaitGroup } from '../WaitGroup.js';
import type { MutexOptions } from '../Mutex.js';
import { NegativeCountError } from '../errors.js';
import { WaitList } from './list.js';
import { checkName } from './mutex.js';
import { Waiter, registerWaiter, type WaitOwner } from './waiter.js';
import { pinMaps } from './maps.js';

const WAIT = waitReason('waitgroup.wait');

export class WaitGroup implements PublicWaitGroup, WaitOwner {
  readonly name: string | undefined;
  readonly q = new WaitList<Waiter>();
  n = 0;
  readonly susp: Suspension<unknown>;

  constructor(options?: MutexOptions) {
    this.name = checkName(options, 'WaitGroup');
    this.susp = suspend(registerWaiter, { reason: WAIT, target: this, internal: true }) as Suspension<unknown>;
  }

  get count(): number {
    return this.n;
  }

  add(delta = 1): void {
    if (typeof delta !== 'number' || !Number.isInteger(delta)) {
      throw new InvalidArgumentError(`WaitGroup.add(delta) needs an integer, got ${String(delta)}`);
    }
    const next = this.n + delta;
    if (next < 0) {
      throw new NegativeCountError(
        `WaitGroup counter would drop to ${next}: done() (or add(${delta})) called more often than add()`,
      );
    }
    this.n = next;
    if (next === 0) {
      let w: Waiter | null;
      while ((w = this.q.shift()) !== null) w.grant(undefined, false);
    }
  }

  done(): void {
    this.add(-1);
  }

  wait(): Operation<void> {
    return groupWait(this);
  }

  parked(): void {}
  withdraw(): void {}
  abandon(): void {}

  toString(): string {
    return `WaitGroup(${this.name ?? ''})`;
  }
}

function* groupWait(g: WaitGroup): Generator<Instruction, void, unknown> {
  if (g.n === 0) return;
  yield* new Waiter(g, g.susp);
}

// Pin the map (see maps.ts).
pinMaps(new WaitGroup({ name: 'pinned' }));
