import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests spawn shells and CLIs; two cores are plenty busy with two workers.
    maxWorkers: 2,
  },
})
