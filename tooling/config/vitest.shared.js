// Shared vitest settings for every package: tests run against `src/` through the
// `@rioco/source` export condition, so no build is needed between edit and test.
import { defaultServerConditions, defaultClientConditions } from 'vite';

/** @param {string} name */
export function riocoProject(name, extra = {}) {
  return {
    resolve: { conditions: ['@rioco/source', ...defaultClientConditions] },
    ssr: { resolve: { conditions: ['@rioco/source', ...defaultServerConditions] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      testTimeout: 20_000,
      ...extra,
    },
  };
}
