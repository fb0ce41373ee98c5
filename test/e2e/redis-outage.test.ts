// A Redis outage as the operator reads it: a private Redis that the test stops for several seconds
// and starts again (its append-only file keeps the queues). Webhooks answer 503 meanwhile so the
// sender retries, the log says once that Redis went away and once that it is back (with a count),
// never a line per reconnect attempt or a raw stack trace, and an alert sent afterwards becomes a
// card. Before, a 30 s outage left about 550 error lines and 270 stack traces.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { localRedis, type LocalService } from "../../app/local-services.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

interface Line {
  level: number;
  msg: string;
  err?: unknown;
  time: number;
}

const lines: Line[] = [];
const logger = pino(
  { level: "info" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Line);
      done();
    },
  }),
);

let dir: string;
let redis: LocalService;
let stack: Stack;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "chatops-redis-"));
  redis = await localRedis(dir, process.env.PATH ?? "");
  stack = await startStack({ env: { REDIS_URL: redis.url }, logger });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const post = (fingerprint: string) =>
  postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint, labels: { alertname: `Outage${fingerprint}` } }),
    alertmanagerAuth,
  );

describe("a Redis outage", () => {
  it("is two log lines, a 503 while it lasts, and nothing lost once Redis is back", async () => {
    expect((await post("before")).status).toBe(202);
    await waitForChat(stack.telegram, (messages) => messages.length === 1);
    const consoleErrors = vi.spyOn(console, "error");
    const from = lines.length;

    await redis.stop();
    const during = await post("during");
    expect(during.status).toBe(503);
    // long enough for every client to try to reconnect many times
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    redis = await localRedis(dir, process.env.PATH ?? "");
    await expect.poll(async () => (await post("after")).status, { timeout: 30_000, interval: 500 }).toBe(202);
    await waitForChat(stack.telegram, (messages) => messages.length === 2, 30_000);

    const outage = lines.slice(from);
    const loud = outage.filter((line) => line.level >= 40);
    expect(loud.filter((line) => line.msg.includes("is unreachable; retrying"))).toHaveLength(1);
    expect(outage.filter((line) => line.msg.includes("is reachable again"))).toHaveLength(1);
    // the poller cannot renew its lease without Redis (bot/polling.ts): it stands by, once, and
    // takes the lease again when Redis is back
    expect(loud.map((line) => line.msg).sort()).toEqual(
      [expect.stringContaining("is unreachable; retrying"), "bot stops polling and stands by"].slice(
        0,
        loud.length,
      ),
    );
    if (loud.some((line) => line.msg === "bot stops polling and stands by"))
      await expect
        .poll(() => lines.slice(from).some((line) => line.msg === "bot polling"), { timeout: 20_000 })
        .toBe(true);
    // each refused delivery is a line at info, with its request id: the sender retries it
    expect(outage.filter((line) => line.msg === "request failed").every((line) => line.level === 30)).toBe(
      true,
    );
    expect(outage.filter((line) => JSON.stringify(line.err ?? "").includes("    at "))).toEqual([]);
    expect(consoleErrors.mock.calls.filter((call) => String(call[0]).includes("ioredis"))).toEqual([]);
    consoleErrors.mockRestore();
  }, 90_000);
});
