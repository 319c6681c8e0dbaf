/**
 * The floor: a minimal generator scheduler with no features at all (no priorities, no
 * cancellation, no table, no hooks). Whatever Rioco costs above this is the price of
 * its features; the targets are set as ratios to it.
 */
export type Park = (resume: (v: unknown) => void) => void;
export type FloorOp<T> = Generator<Park, T, unknown>;

interface Ready {
  g: FloorOp<unknown>;
  v: unknown;
}

export class FloorScheduler {
  private q: Ready[] = [];
  private head = 0;
  private draining = false;

  spawn(g: FloorOp<unknown>, onDone?: (v: unknown) => void): void {
    const wrapped = onDone ? withDone(g, onDone) : g;
    this.enqueue(wrapped, undefined);
  }

  enqueue(g: FloorOp<unknown>, v: unknown): void {
    this.q.push({ g, v });
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => this.drain());
    }
  }

  private drain(): void {
    while (this.head < this.q.length) {
      const { g, v } = this.q[this.head++];
      const r = g.next(v);
      if (!r.done) r.value((value) => this.enqueue(g, value));
      if (this.head > 1024 && this.head * 2 > this.q.length) {
        this.q = this.q.slice(this.head);
        this.head = 0;
      }
    }
    this.q.length = 0;
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
  private waiter: ((v: unknown) => void) | null = null;
  private value: T | undefined;
  private has = false;
  put(v: T): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w(v);
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
    return (yield (resume) => {
      this.waiter = resume;
    }) as T;
  }
}

export function floorRun(main: () => FloorOp<unknown>): Promise<unknown> {
  return new Promise((resolve) => new FloorScheduler().spawn(main(), resolve));
}

/** A parked-forever instruction for the memory row. */
export const parkForever: Park = () => {};
