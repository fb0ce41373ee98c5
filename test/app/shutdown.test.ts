// Shutdown steps run in reverse, each within its limit; one that overruns is forced, and a force
// that hangs too is given up after the same limit, so closing never holds the process forever.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Shutdown } from "../../app/infrastructure.js";

const never = () => new Promise<never>(() => undefined);

describe("Shutdown", () => {
  it("goes on past a step whose run and force both hang, and still runs the steps after it", async () => {
    const shutdown = new Shutdown(pino({ level: "silent" }));
    const ran: string[] = [];
    shutdown.add("pools", async () => {
      ran.push("pools");
    });
    shutdown.add("workers", never, {
      limitMs: 50,
      force: async () => {
        ran.push("forced");
        await never();
      },
    });
    const started = Date.now();
    await shutdown.run();
    expect(ran).toEqual(["forced", "pools"]);
    // the run's limit, then the force's: not a moment of it forever
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("waits for a force that finishes", async () => {
    const shutdown = new Shutdown(pino({ level: "silent" }));
    const ran: string[] = [];
    shutdown.add("workers", never, {
      limitMs: 20,
      force: async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        ran.push("forced");
      },
    });
    await shutdown.run();
    expect(ran).toEqual(["forced"]);
  });
});
