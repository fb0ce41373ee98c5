// What the registry says of a Sentry project: the tier of the service that names it as its
// `links.sentry_project` is the severity of its issues; a project it does not map keeps its level.
import { describe, expect, it } from "vitest";
import { sentrySeverityFrom } from "../../registry/lookups.js";
import { loadRegistry } from "../../registry/services.js";
import { SAMPLE_REGISTRY, fixture } from "./helpers.js";

describe("sentrySeverityFrom", () => {
  it("gives the tier of the service that links the project", async () => {
    const severity = sentrySeverityFrom(await loadRegistry(fixture("minimal.yaml")));
    expect(severity("shop-api")).toBe("P0");
    expect(severity("unknown-project")).toBeUndefined();
  });

  it("reads the sample registry: awoooi-web is P1, awoooi-api P0", async () => {
    const severity = sentrySeverityFrom(await loadRegistry(SAMPLE_REGISTRY));
    expect(severity("awoooi-web")).toBe("P1");
    expect(severity("awoooi-api")).toBe("P0");
  });
});
