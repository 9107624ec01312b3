import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the test user and its sudoers entry when the run ends.
    globalSetup: ['test/global-setup.ts'],
    // Generous: a bound against hangs, not a speed check; shellcheck over every type and the
    // 40-state plan/apply run take 30-40 s on a busy 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Integration tests spawn shells and CLIs; two cores are plenty busy with two workers.
    maxWorkers: 2,
  },
})
