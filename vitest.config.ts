import { defineConfig } from 'vitest/config';

// RIOCO_VITEST_JSON=<file> adds a JSON report (used by .ci/run to total the results).
const json = process.env.RIOCO_VITEST_JSON;

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts'],
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
