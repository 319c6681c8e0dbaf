/**
 * The floor: a minimal generator scheduler with no features at all (no priorities, no
 * cancellation, no table, no hooks, no resume safety). Whatever Rioco costs above this
 * is the price of its features; the targets are set as ratios to it.
 *
 * A parked generator is resumed by pushing it (and its value) on two parallel arrays:
 * no closure, no record per switch.
 */
export type Park = (g: FloorOp<unknown>, s: FloorScheduler) => void;
export type FloorOp<T> = Generator<Park, T, unknown>;

export class FloorScheduler {
  private gs: FloorOp<unknown>[] = [];
  private vs: unknown[] = [];
  private head = 0;
  private draining = false;

  spawn(g: FloorOp<unknown>, onDone?: (v: unknown) => void): void {
    this.enqueue(onDone ? withDone(g, onDone) : g, undefined);
  }

  enqueue(g: FloorOp<unknown>, v: unknown): void {
    this.gs.push(g);
    this.vs.push(v);
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => this.drain());
    }
  }

  private drain(): void {
    const gs = this.gs;
    const vs = this.vs;
    while (this.head < gs.length) {
      const i = this.head++;
      const g = gs[i];
      const r = g.next(vs[i]);
      if (!r.done) r.value(g, this);
      if (this.head === 4096) {
        gs.splice(0, 4096);
        vs.splice(0, 4096);
        this.head = 0;
      }
    }
    gs.length = 0;
    vs.length = 0;
    this.head = 0;
    this.draining = false;
  }
}

function* withDone(g: FloorOp<unknown>, onDone: (v: unknown) => void): FloorOp<unknown> {
  const v = yield* g;
  onDone(v);
  return v;
}

/** One-slot handoff on the floor scheduler. */
export class FloorSlot<T> {
  private waiter: FloorOp<unknown> | null = null;
  private sched: FloorScheduler | null = null;
  private value: T | undefined;
  private has = false;
  private readonly park: Park = (g, s) => {
    this.waiter = g;
    this.sched = s;
  };
  put(v: T): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      (this.sched as FloorScheduler).enqueue(w, v);
    } else {
      this.value = v;
      this.has = true;
    }
  }
  *take(): FloorOp<T> {
    if (this.has) {
      this.has = false;
      return this.value as T;
    }
    return (yield this.park) as T;
  }
}

/**
 * The floor's ping-pong: two generators trade `n` messages through two one-slot
 * handoffs. The baseline of the core and sync ping-pong tables.
 */
export function floorPingPong(n: number): Promise<unknown> {
  return new Promise((resolve) => {
    const sched = new FloorScheduler();
    const ab = new FloorSlot<number>();
    const ba = new FloorSlot<number>();
    sched.spawn(
      (function* (): FloorOp<void> {
        for (let i = 0; i < n; i++) ba.put(yield* ab.take());
      })(),
    );
    sched.spawn(
      (function* (): FloorOp<void> {
        for (let i = 0; i < n; i++) {
          ab.put(i);
          yield* ba.take();
        }
      })(),
      resolve,
    );
  });
}

export function floorRun(main: () => FloorOp<unknown>): Promise<unknown> {
  return new Promise((resolve) => new FloorScheduler().spawn(main(), resolve));
}

/** A parked-forever instruction for the memory row. */
export const parkForever: Park = () => {};
