import { describe, expect, it } from "vitest";
import { EXECUTORS, registerExecutors } from "../../executors/index.js";
import { restartContainer } from "../../executors/restart-container.js";

describe("the executor list", () => {
  it("refuses two executors for one action", () => {
    expect(() => registerExecutors([restartContainer, restartContainer])).toThrow(
      "two executors claim RESTART_CONTAINER",
    );
  });

  it("holds only actions of SPEC's list, and none of the blacklisted ones", () => {
    expect([...EXECUTORS.keys()]).toEqual([
      "RESTART_CONTAINER",
      "RESTART_POD",
      "DELETE_POD",
      "SCALE_UP",
      "SCALE_DOWN",
      "ROLLBACK",
    ]);
    for (const name of ["DROP_DATABASE", "DELETE_NAMESPACE", "FORCE_DELETE_PVC", "DELETE_SECRET"]) {
      expect(EXECUTORS.has(name as never)).toBe(false);
    }
  });

  it("rejects params a model could smuggle a command into", () => {
    expect(restartContainer.params.safeParse({ container: "postgres; rm -rf /" }).success).toBe(false);
    expect(restartContainer.params.safeParse({ container: "postgres", command: "sh" }).success).toBe(false);
    expect(restartContainer.params.safeParse({ container: "postgres" }).success).toBe(true);
  });
});
