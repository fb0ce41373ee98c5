// Prints the plain closing line CI reads ("N passed, N failed"), after vitest's own summary. A test
// file that failed as a whole (an import error, a failing beforeAll) counts its tests that did not
// pass as failed, never as skipped, and is named, so a broken file cannot pass for a quiet one.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const brokenFiles: string[] = [];
    for (const module of testModules) {
      const broken = module.state() === "failed";
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed" || broken) failedHere++;
        else skipped++;
      }
      if (broken && failedHere === 0) failedHere = 1;
      if (broken) brokenFiles.push(module.moduleId);
      failed += failedHere;
    }
    const files = brokenFiles.length === 0 ? "" : `; ${brokenFiles.length} file(s) failed`;
    console.log(
      `\ntests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}${files}`,
    );
  }
}
