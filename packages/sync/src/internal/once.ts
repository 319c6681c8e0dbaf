/**
 * Once implementation: a three-state cell (EMPTY, RUNNING, SET), the id of the fiber
 * running the initializer, and a FIFO list of fibers waiting for it.
 *
 * Invariants:
 * - exactly one fiber runs an initializer at a time (`state === RUNNING`); the value is
 *   stored once (`SET`) and never changes;
 * - if the initializer fails or its fiber is cancelled, the cell goes back to EMPTY and
 *   the turn passes to the longest waiter (the error goes only to the fiber whose
 *   initializer threw): no waiter is left parked on a cell nobody initializes;
 * - the turn is handed like a lock: the passer sets RUNNING and the new initializer's id
 *   before resuming it; a waiter cancelled after it got the turn, before it ran, passes
 *   the turn on (`abandon`).
 */
import { InvalidArgumentError, currentFiber, suspend, waitReason, type Instruction, type Operation, type Suspension } from '@rioco/core';
import type { Once as PublicOnce } from '../Once.js';
import type { MutexOptions } from '../Mutex.js';
import { WaitList } from './list.js';
import { checkName } from './mutex.js';
import { Waiter, registerWaiter, type WaitOwner } from './waiter.js';
import { generalize, pinMaps } from './maps.js';

const WAIT = waitReason('once.wait');

const EMPTY_CELL = 0;
const RUNNING = 1;
const SET = 2;

/** Resume values of a waiter. */
const YOUR_TURN = 1;
const READY = 2;

export class Once<T> implements PublicOnce<T>, WaitOwner {
  readonly name: string | undefined;
  readonly q = new WaitList<Waiter>();
  state = EMPTY_CELL;
  cell: T | undefined = undefined;
  initFiber = 0;
  readonly susp: Suspension<unknown>;

  constructor(options?: MutexOptions) {
    this.name = checkName(options, 'Once');
    this.susp = suspend(registerWaiter, { reason: WAIT, target: this, internal: true }) as Suspension<unknown>;
  }

  get isSet(): boolean {
    return this.state === SET;
  }

  get value(): T | undefined {
    return this.cell;
  }

  get holder(): number | undefined {
    return this.state === RUNNING ? this.initFiber : undefined;
  }

  getOrInit(init: () => Operation<T>): Operation<T> {
    if (typeof init !== 'function') throw new InvalidArgumentError('getOrInit(init) needs a function returning an operation');
    return getOrInit(this, init);
  }

  /** Hand the initializer's turn to the longest waiter, or leave the cell EMPTY. */
  passTurn(): void {
    const w = this.q.shift();
    if (w === null) {
      this.state = EMPTY_CELL;
      this.initFiber = 0;
      return;
    }
    this.state = RUNNING;
    this.initFiber = w.fiberId;
    w.grant(YOUR_TURN, true);
  }

  parked(): void {}
  withdraw(): void {}

  abandon(): void {
    this.passTurn();
  }

  toString(): string {
    return `Once(${this.name ?? ''})`;
  }
}

function* getOrInit<T>(o: Once<T>, init: () => Operation<T>): Generator<Instruction, T, unknown> {
  let mine = false;
  for (;;) {
    if (o.state === SET) return o.cell as T;
    if (o.state === EMPTY_CELL) {
      o.state = RUNNING;
      o.initFiber = currentFiber()?.id ?? 0;
      mine = true;
    }
    if (mine) {
      let ok = false;
      try {
        const op = init();
        if (op === null || (typeof op !== 'object' && typeof op !== 'function') || typeof (op as Partial<Operation<T>>)[Symbol.iterator] !== 'function') {
          throw new InvalidArgumentError(
            `Once.getOrInit: init() must return an operation (a generator, or anything \`yield*\` accepts), got ${op === null ? 'null' : typeof op}`,
          );
        }
        const v = yield* op;
        o.cell = v;
        o.state = SET;
        o.initFiber = 0;
        ok = true;
        let w: Waiter | null;
        while ((w = o.q.shift()) !== null) w.grant(READY, false);
        return v;
      } finally {
        if (!ok) o.passTurn();
      }
    }
    const r = yield* new Waiter(o, o.susp);
    if (r === YOUR_TURN) mine = true;
  }
}

// Pin the map (see maps.ts); the cell may hold anything.
{
  const o = new Once<unknown>({ name: 'pinned' });
  generalize(o, 'cell');
  pinMaps(o);
}
