// One breaker per provider. After `failureThreshold` consecutive failures the provider is skipped
// for `coolOffMs`; then one trial call is let through (half-open): success closes the breaker,
// failure opens it again. A 429 pauses the provider for as long as the server asked.

export interface BreakerOptions {
  failureThreshold: number;
  coolOffMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: Readonly<BreakerOptions> = Object.freeze({
  failureThreshold: 3,
  coolOffMs: 60_000,
});

export type BreakerState = "closed" | "open" | "half_open";

export type BreakerGate = { allowed: true } | { allowed: false; reason: string; retryInMs: number };

export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private openReason = "";
  private probing = false;

  constructor(
    private readonly options: Readonly<BreakerOptions> = DEFAULT_BREAKER_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {}

  state(): BreakerState {
    if (this.openUntil === 0) return "closed";
    return this.now() < this.openUntil ? "open" : "half_open";
  }

  /** Asks to make one call. Every granted call must end in `succeed`, `fail`, `pause` or `release`. */
  tryAcquire(): BreakerGate {
    const state = this.state();
    if (state === "closed") return { allowed: true };
    if (state === "open") {
      return { allowed: false, reason: this.openReason, retryInMs: this.openUntil - this.now() };
    }
    if (this.probing)
      return { allowed: false, reason: "a trial call is in flight (half-open)", retryInMs: 0 };
    this.probing = true;
    return { allowed: true };
  }

  succeed(): void {
    this.failures = 0;
    this.openUntil = 0;
    this.probing = false;
  }

  fail(): void {
    this.failures += 1;
    const wasProbe = this.probing;
    this.probing = false;
    if (wasProbe || this.failures >= this.options.failureThreshold) {
      this.open(this.options.coolOffMs, `${this.failures} consecutive failures`);
    }
  }

  /** Rate-limited: skip the provider for `ms` without counting a failure. */
  pause(ms: number, reason: string): void {
    this.probing = false;
    this.open(ms, reason);
  }

  /** The granted call did not happen (budget exhausted, caller cancelled). */
  release(): void {
    this.probing = false;
  }

  private open(ms: number, reason: string): void {
    this.openUntil = this.now() + ms;
    this.openReason = `${reason}; skipped until ${new Date(this.openUntil).toISOString()}`;
  }
}
