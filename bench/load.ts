// HTTP load with autocannon. Only 2xx answers count as work done: for the bot a 202 means the
// payload is durably in the ingest queue; a 4xx/5xx or a socket error is reported, never counted.
import autocannon from "autocannon";

export interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Replace `[<id>]` in the body with a fresh id per request. */
  idReplacement?: boolean;
}

export interface LoadResult {
  durationS: number;
  ok: number;
  /** ok per second of the run. */
  okPerSecond: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
}

export interface SaturateOptions {
  connections: number;
  durationS: number;
}

export interface SteadyRateOptions extends SaturateOptions {
  /** Requests per second over all connections. */
  rate: number;
}

/** As many requests as `connections` concurrent clients can get answered. */
export function saturate(target: Target, options: SaturateOptions): Promise<LoadResult> {
  return run(target, { connections: options.connections, duration: options.durationS });
}

/**
 * autocannon's `overallRate`: each connection sends its quota for the second back-to-back, then
 * pauses, so this is a burst at the top of every second rather than a steady rate (see paced.ts,
 * which the ack latency figure uses). Kept for comparison with runs that used it.
 */
export function steadyRate(target: Target, options: SteadyRateOptions): Promise<LoadResult> {
  return run(target, {
    connections: options.connections,
    duration: options.durationS,
    overallRate: options.rate,
  });
}

async function run(
  target: Target,
  options: Pick<autocannon.Options, "connections" | "duration" | "overallRate">,
): Promise<LoadResult> {
  const result = await autocannon({
    url: target.url,
    method: "POST",
    headers: target.headers,
    body: target.body,
    idReplacement: target.idReplacement ?? false,
    ...options,
  });
  const ok = result["2xx"];
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  return {
    durationS: result.duration,
    ok,
    okPerSecond: result.duration > 0 ? ok / result.duration : 0,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  };
}
