import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/scenario/**/*.test.ts', 'test/fuzz/**/*.test.ts', 'test/build/**/*.test.ts'],
    // a bound for a hung test, not a speed goal: on a loaded 2-core machine the slowest tests (Espruino's
    // interpreter, Lua builds) take several times their unloaded 40-50 s
    testTimeout: 240000,
    hookTimeout: 240000,
    pool: 'forks',
  },
});
