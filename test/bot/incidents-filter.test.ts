// `/incidents` filters: what an argument names, and that every filter survives the trip through a
// menu button's payload (the page turns and the rows keep the list the asker asked for).
import { describe, expect, it } from "vitest";
import { filterCode, parseIncidentsFilter } from "../../bot/commands/incidents.js";

describe("parseIncidentsFilter", () => {
  it("reads a severity, mine, a service, or nothing", () => {
    expect(parseIncidentsFilter("")).toEqual({ kind: "all" });
    expect(parseIncidentsFilter(" P0 ")).toEqual({ kind: "severity", severity: "P0" });
    expect(parseIncidentsFilter("p2")).toEqual({ kind: "severity", severity: "P2" });
    expect(parseIncidentsFilter("mine")).toEqual({ kind: "mine" });
    expect(parseIncidentsFilter("awoooi-api")).toEqual({ kind: "service", service: "awoooi-api" });
  });

  it("refuses what cannot be a service name or would not fit a button's callback data", () => {
    expect(parseIncidentsFilter("P3")).toEqual({ kind: "service", service: "P3" });
    expect(parseIncidentsFilter("two words")).toBeUndefined();
    expect(parseIncidentsFilter("svc/../x")).toBeUndefined();
    expect(parseIncidentsFilter("a".repeat(16))).toEqual({ kind: "service", service: "a".repeat(16) });
    expect(parseIncidentsFilter("a".repeat(17))).toBeUndefined();
  });
});

describe("filterCode", () => {
  it("is short and distinct per filter", () => {
    expect(filterCode({ kind: "all" })).toBe("");
    expect(filterCode({ kind: "severity", severity: "P1" })).toBe("~P1");
    expect(filterCode({ kind: "mine" })).toBe("~me");
    expect(filterCode({ kind: "service", service: "awoooi-api" })).toBe("~s:awoooi-api");
  });

  it("keeps the longest row payload within what the menu leaves of 64 bytes", () => {
    // "incidents/<row>/<col>/" + payload + "/h" + a hash of up to 12 bytes (see incidents.ts)
    const payload = `999.20260329-0001${filterCode({ kind: "service", service: "a".repeat(16) })}`;
    expect(Buffer.byteLength(`incidents/7/0/${payload}/h${"\uFFFD".repeat(4)}`)).toBeLessThanOrEqual(64);
  });
});
