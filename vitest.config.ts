import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    allowOnly: false,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'out/vitest-report.json' },
    // Handlers log JSON through Powertools; keep test output readable.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
