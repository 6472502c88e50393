import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/scenario/**/*.test.ts', 'test/fuzz/**/*.test.ts', 'test/build/**/*.test.ts'],
    testTimeout: 60000,
    pool: 'forks',
  },
});
