import { defineConfig } from "vitest/config";

// The tests StrykerJS runs against each mutant of the safety-critical code (stryker.config.json):
// the guardrail policy, approval and its guard, webhook and API authentication, the repair budget.
export default defineConfig({
  test: {
    // the unit tests of that code: each mutant runs the ones that cover it, so these stay fast
    include: [
      "test/domain/decide.test.ts",
      "test/handlers/approve-action.test.ts",
      "test/http/auth.test.ts",
      "test/kv/repair-counters.test.ts",
    ],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    globalSetup: ["./test/support/global-setup.ts"],
  },
});
