// An open-loop, evenly paced request generator: request i leaves at start + i / rate whether or not
// earlier ones were answered, like alerts arriving from many Alertmanagers.
//
// Why not autocannon's `overallRate`: autocannon paces per connection and per second. Each
// connection sends its quota for the second back-to-back, each request right after the previous
// answer, then pauses until the next second. At 500 req/s over 50 connections that is a burst of
// 50 concurrent requests at the top of every second, so it measures queueing in a burst (p99
// ~70 ms even against a bare node:http server answering 202 on this kind of machine), not the
// latency of a steady 500 req/s.
import { Agent, request } from "node:http";
import type { Target } from "./load.js";
import { percentile } from "./summary.js";

export interface PacedOptions {
  rate: number;
  durationS: number;
  /** Longest wait for one answer before it counts as an error. */
  timeoutMs?: number;
}

export interface PacedResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Requests per second actually sent. */
  achievedRate: number;
  /** From writing the request to the end of the answer, 2xx only. */
  latencyMs: { p50: number; p99: number; max: number };
  /** How late the generator sent requests behind their schedule (its own event loop). */
  senderLagMs: { p99: number; max: number };
}

const ID_PLACEHOLDER = "[<id>]";

export async function pacedLoad(target: Target, options: PacedOptions): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const interval = 1000 / options.rate;
  const total = Math.round(options.rate * options.durationS);
  const run = Date.now().toString(36);
  const latencies: number[] = [];
  const lags: number[] = [];
  const answers: Promise<void>[] = [];
  let non2xx = 0;
  let errors = 0;

  const send = (index: number, scheduledAt: number): Promise<void> => {
    const body =
      target.idReplacement === true ? target.body.replaceAll(ID_PLACEHOLDER, `${run}-${index}`) : target.body;
    const startedAt = performance.now();
    lags.push(startedAt - scheduledAt);
    return new Promise<void>((resolve) => {
      const req = request(
        target.url,
        {
          method: "POST",
          agent,
          headers: { ...target.headers, "content-length": Buffer.byteLength(body) },
          timeout: options.timeoutMs ?? 10_000,
        },
        (res) => {
          res.resume();
          res.once("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) latencies.push(performance.now() - startedAt);
            else non2xx++;
            resolve();
          });
        },
      );
      req.once("timeout", () => req.destroy(new Error("timeout")));
      req.once("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  };

  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      // Catch up on every request whose time has come: timers fire at best every millisecond.
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      while (sent < due) {
        answers.push(send(sent, start + sent * interval));
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  const sendingS = (performance.now() - start) / 1000;
  await Promise.all(answers);
  agent.destroy();

  const pick = (samples: number[], p: number) => percentile(samples, p) ?? Number.NaN;
  return {
    sent,
    ok: latencies.length,
    non2xx,
    errors,
    achievedRate: sent / Math.max(sendingS, options.durationS),
    latencyMs: { p50: pick(latencies, 50), p99: pick(latencies, 99), max: Math.max(...latencies) },
    senderLagMs: { p99: pick(lags, 99), max: Math.max(...lags) },
  };
}
