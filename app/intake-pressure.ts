// With every role in one process (ROLES not set: `npm start`, and the image's default command), the
// intake holds the ingest backlog back while it is saturated. The workers' thread is niced
// (app/worker-thread.ts), but the PostgreSQL and Redis work each ingest job causes runs in their
// own processes at full priority, on the same cores as the intake: under a flood of deliveries that
// work took a third or more of what the intake could otherwise accept. So while the intake's event
// loop stays busy (INTAKE_BUSY of a sample or more), the ingest worker takes no new job (those it
// holds finish); deliveries keep being acknowledged once they are in Redis, where they wait
// durably. A hold lasts at most HOLD_LIMIT_MS and is followed by at least RELEASE_AT_LEAST_MS of
// work, so a flood that never ends still has its alerts turned into incidents, at a sixth of the
// pace at worst. Only ingest is held: analyses, cards and actions for incidents already open go on.
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import type { Metrics } from "../gateways/metrics.js";

/** The share of a sample the intake's event loop spent busy, at or above which ingest is held. */
export const INTAKE_BUSY = 0.9;
/** How often the intake's utilization is read. */
export const SAMPLE_MS = 250;
/** The longest one hold lasts. */
export const HOLD_LIMIT_MS = 5_000;
/** After a hold, ingest runs at least this long before the next. */
export const RELEASE_AT_LEAST_MS = 1_000;

export interface PressureLimits {
  busy: number;
  holdLimitMs: number;
  releaseAtLeastMs: number;
}

const LIMITS: PressureLimits = {
  busy: INTAKE_BUSY,
  holdLimitMs: HOLD_LIMIT_MS,
  releaseAtLeastMs: RELEASE_AT_LEAST_MS,
};

export interface PressureState {
  held: boolean;
  /** When the hold started, or when the last one ended (-Infinity: never held); monotonic ms. */
  since: number;
}

export const UNHELD: PressureState = { held: false, since: -Infinity };

/** The next state after a sample of `utilization` (0..1) taken at `now` (ms). */
export function nextPressure(
  state: PressureState,
  utilization: number,
  now: number,
  limits: PressureLimits = LIMITS,
): PressureState {
  if (state.held) {
    const over = utilization < limits.busy || now - state.since >= limits.holdLimitMs;
    return over ? { held: false, since: now } : state;
  }
  const rested = now - state.since >= limits.releaseAtLeastMs;
  return utilization >= limits.busy && rested ? { held: true, since: now } : state;
}

export interface PressureOptions extends Partial<PressureLimits> {
  sampleMs?: number;
  /** This thread's event loop utilization since the last call (0..1); node's by default. */
  utilization?: () => number;
  /** A clock in ms that never steps back (`performance.now` by default, not the wall clock). */
  now?: () => number;
}

/**
 * Samples this thread's event loop every `sampleMs` and calls `onChange` each time ingest should
 * be held or released. Call on the intake's thread; `stop()` ends the sampling.
 */
export function watchIntakePressure(
  onChange: (held: boolean) => void,
  options: PressureOptions = {},
): { stop(): void } {
  const limits: PressureLimits = {
    busy: options.busy ?? LIMITS.busy,
    holdLimitMs: options.holdLimitMs ?? LIMITS.holdLimitMs,
    releaseAtLeastMs: options.releaseAtLeastMs ?? LIMITS.releaseAtLeastMs,
  };
  const utilization = options.utilization ?? eventLoopUtilization();
  const now = options.now ?? (() => performance.now());
  let state = UNHELD;
  const timer = setInterval(() => {
    const next = nextPressure(state, utilization(), now(), limits);
    if (next.held !== state.held) onChange(next.held);
    state = next;
  }, options.sampleMs ?? SAMPLE_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      if (state.held) onChange(false);
      state = UNHELD;
    },
  };
}

/**
 * What an operator sees of the holds: `chatops_ingest_held` (1 while held) and
 * `chatops_ingest_held_seconds_total`. Returns the `onChange` part that records them.
 */
export function recordHolds(
  metrics: Pick<Metrics, "ingestHeld" | "ingestHeldSeconds">,
  now: () => number = () => performance.now(),
): (held: boolean) => void {
  let heldAt: number | undefined;
  return (held) => {
    metrics.ingestHeld.set(held ? 1 : 0);
    if (held) heldAt ??= now();
    else if (heldAt !== undefined) {
      metrics.ingestHeldSeconds.inc((now() - heldAt) / 1000);
      heldAt = undefined;
    }
  };
}

function eventLoopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const current = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(current, last);
    last = current;
    return delta.utilization;
  };
}

/**
 * Whether ingest is held, as the workers' thread last heard from the intake, and who to tell when
 * that changes (the ingest worker, app/workers.ts).
 */
export class IngestHold {
  private current = false;
  private readonly listeners = new Set<(held: boolean) => void>();

  get held(): boolean {
    return this.current;
  }

  set(held: boolean): void {
    if (held === this.current) return;
    this.current = held;
    for (const listener of this.listeners) listener(held);
  }

  /** Calls `listener` on each change from now on; returns what stops it. */
  onChange(listener: (held: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
