// Shared vitest settings for every package: tests run against `src/` through the
// `@rioco/source` export condition, so no build is needed between edit and test.
import { defaultServerConditions, defaultClientConditions } from 'vite';
import { runSeeds } from './seeds.js';

/** @param {string} name */
export function riocoProject(name, extra = {}) {
  return {
    resolve: { conditions: ['@rioco/source', ...defaultClientConditions] },
    ssr: { resolve: { conditions: ['@rioco/source', ...defaultServerConditions] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      // Seeded tests take time in proportion to RIOCO_SEEDS (300 by default; 10000 nightly).
      testTimeout: Math.max(20_000, Math.ceil((20_000 * runSeeds) / 300)),
      ...extra,
    },
  };
}
