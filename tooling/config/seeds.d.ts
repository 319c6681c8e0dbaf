/** RIOCO_SEEDS as a positive integer, else `fallback`; throws on any other value. */
export declare function seedCount(env: string | undefined, fallback: number): number;
/** The seed count of this run (300 when RIOCO_SEEDS is unset). */
export declare const runSeeds: number;
