// How many seeds the seeded tests explore: RIOCO_SEEDS (a positive integer), else the
// suite's default. A value that is not a positive integer fails loudly instead of running
// zero seeds (which would pass every seeded test vacuously).

/**
 * @param {string | undefined} env the RIOCO_SEEDS value
 * @param {number} fallback the suite's default
 * @returns {number}
 */
export function seedCount(env, fallback) {
  if (env === undefined) return fallback;
  const n = Number(env);
  if (env.trim() === '' || !Number.isInteger(n) || n < 1) {
    throw new Error(`RIOCO_SEEDS must be a positive integer (seeds per seeded test), got ${JSON.stringify(env)}`);
  }
  return n;
}

/** The seed count of this run, for scaling timeouts (the largest suite default, 300, if unset). */
export const runSeeds = seedCount(process.env.RIOCO_SEEDS, 300);
