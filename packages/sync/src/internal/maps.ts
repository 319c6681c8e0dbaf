/**
 * Keeping hidden classes alive across full GCs.
 *
 * V8 reaches the map (hidden class) of a constructed object only through weak transition
 * links; only the objects themselves hold it strongly. When every instance of a
 * short-lived record (a send, a receive waiter, a lock guard) happens to be dead at a full
 * GC, its map is collected and every optimized function that checked it is deoptimized
 * ("weak objects" in `--trace-deopt`). A fiber's generator body cannot re-enter optimized
 * code until it is called again, so a long-running fiber loop then stays slow: measured on
 * a channel loop, 5-8x slower for the rest of the run after each full GC.
 *
 * So each module pins one sentinel instance per hot class for its lifetime (a few hundred
 * bytes in all). Fields that may hold any value are first written with a double and an
 * object, so the map the sentinel pins is the most general one and no later
 * representation change (a double, then an object, sent through a channel) deprecates it.
 *
 * Invariant: `pinned` only grows, once per module evaluation.
 */
const pinned: object[] = [];
const ANY_OBJECT = {};

/** Keep `objects` (and so their maps) alive for the life of the process. */
export function pinMaps(...objects: object[]): void {
  for (const o of objects) pinned.push(o);
}

/** Give `fields` of `o` the most general representation, keeping their values. */
export function generalize(o: object, ...fields: string[]): void {
  const r = o as Record<string, unknown>;
  for (const f of fields) {
    const v = r[f];
    r[f] = 0.5;
    r[f] = ANY_OBJECT;
    r[f] = v;
  }
}
