import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../ai/circuit-breaker.js";

function breaker() {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold: 3, coolOffMs: 1_000 }, () => now);
  return { b, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("stays closed below the threshold and resets on success", () => {
    const { b } = breaker();
    b.fail();
    b.fail();
    b.succeed();
    b.fail();
    b.fail();
    expect(b.state()).toBe("closed");
    expect(b.tryAcquire().allowed).toBe(true);
  });

  it("opens at the threshold, then allows exactly one trial", () => {
    const { b, advance } = breaker();
    b.fail();
    b.fail();
    b.fail();
    expect(b.tryAcquire()).toMatchObject({ allowed: false, retryInMs: 1_000 });
    advance(1_000);
    expect(b.state()).toBe("half_open");
    expect(b.tryAcquire().allowed).toBe(true);
    expect(b.tryAcquire()).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("half-open") as string,
    });
    b.succeed();
    expect(b.state()).toBe("closed");
  });

  it("reopens when the trial fails, and frees the trial slot on release", () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.fail();
    advance(1_000);
    b.tryAcquire();
    b.fail();
    expect(b.state()).toBe("open");
    advance(1_000);
    b.tryAcquire();
    b.release();
    expect(b.tryAcquire().allowed).toBe(true);
  });

  it("pauses for a rate limit without counting a failure", () => {
    const { b, advance } = breaker();
    b.pause(5_000, "rate-limited");
    expect(b.tryAcquire()).toMatchObject({ allowed: false, retryInMs: 5_000 });
    advance(5_000);
    expect(b.tryAcquire().allowed).toBe(true);
    b.succeed();
    b.fail();
    b.fail();
    expect(b.state()).toBe("closed");
  });
});
