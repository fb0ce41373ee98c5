// An outage of a dependency several clients report to: one line when it goes, one when it is back,
// and a client that reconnects later than the others does not announce a second outage.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Outage, OUTAGE_SETTLE_MS } from "../../app/infrastructure.js";

function outage() {
  const lines: string[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) },
  );
  let now = 1_000_000;
  const watched = new Outage(logger, "Redis at 127.0.0.1:6379 (REDIS_URL)", () => now);
  return { watched, lines, later: (ms: number) => (now += ms) };
}

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });

describe("Outage", () => {
  it("says once that it went away and once that it is back, whatever the clients report between", () => {
    const { watched, lines, later } = outage();
    watched.failed(refused);
    watched.failed(refused, { straggler: true });
    later(3_000);
    watched.failed(refused);
    watched.recovered();
    watched.recovered();
    expect(lines).toEqual([
      "Redis at 127.0.0.1:6379 (REDIS_URL) is unreachable; retrying",
      "Redis at 127.0.0.1:6379 (REDIS_URL) is reachable again",
    ]);
    expect(watched.down).toBe(false);
  });

  it("counts a straggling client's error right after the recovery as the old outage's", () => {
    const { watched, lines, later } = outage();
    watched.failed(refused);
    watched.recovered();
    later(OUTAGE_SETTLE_MS - 1);
    watched.failed(refused, { straggler: true });
    expect(watched.down).toBe(false);
    expect(lines).toHaveLength(2);
  });

  it("announces a new outage when a connection itself fails again, or a straggler after the settling time", () => {
    const { watched, lines, later } = outage();
    watched.failed(refused);
    watched.recovered();
    watched.failed(refused);
    expect(watched.down).toBe(true);
    watched.recovered();
    later(OUTAGE_SETTLE_MS);
    watched.failed(refused, { straggler: true });
    expect(watched.down).toBe(true);
    expect(lines.filter((line) => line.endsWith("is unreachable; retrying"))).toHaveLength(3);
  });
});
