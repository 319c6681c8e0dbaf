/**
 * Wait reasons are interned: a primitive creates its reason once at module load and
 * every park stores only a small integer id in the fiber table (a native dump reads the
 * label from the table's string area; JavaScript reads it from `labels`).
 */
/**
 * An interned description of what a parked fiber waits on. Create one per kind of wait
 * with {@link waitReason} at module load.
 * @example
 * ```ts
 * const LOCK = waitReason('mutex.lock');
 * ```
 * @public
 */
export class WaitReason {
  /** Text shown in dumps and deadlock reports. */
  readonly label: string;
  /** Small integer stored in the fiber table. */
  readonly id: number;
  /** @internal */
  constructor(label: string, id: number) {
    this.label = label;
    this.id = id;
  }
  /** The label. */
  toString(): string {
    return this.label;
  }
}

const byLabel = new Map<string, WaitReason>();
export const reasons: WaitReason[] = [];
/** Listeners told about new reasons (the native string area registers itself here). */
export const onNewReason: Array<(r: WaitReason) => void> = [];

export function internReason(label: string): WaitReason {
  let r = byLabel.get(label);
  if (r === undefined) {
    r = new WaitReason(label, reasons.length);
    reasons.push(r);
    byLabel.set(label, r);
    for (const f of onNewReason) f(r);
  }
  return r;
}

export const NO_REASON = internReason('nothing');
export const REASON_YIELD = internReason('yield');
/** A timer wait (what @rioco/timers' sleep() parks on). */
export const REASON_TIMER = internReason('timers.sleep');
export const REASON_JOIN = internReason('join');
export const REASON_CHILDREN = internReason('children');
export const REASON_PROMISE = internReason('promise');
export const REASON_SUSPEND = internReason('suspend');
