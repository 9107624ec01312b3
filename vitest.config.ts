import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the test user and its sudoers entry when the run ends.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests spawn shells and CLIs; two cores are plenty busy with two workers.
    maxWorkers: 2,
  },
})
