// Telegram unreachable for several seconds, as the operator reads it: a TCP relay between the bot
// and the Telegram emulator is cut and restored. grammY itself only writes to `debug`, so before,
// a 60 s outage left no log line at all; now it is one warning when it starts and one line when
// it ends, and the card queued meanwhile is delivered afterwards.
import { createServer, Socket, type Server } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

interface Line {
  level: number;
  msg: string;
  errors?: number;
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

/** A relay to the emulator that can be cut (connections dropped, new ones refused) and restored. */
class Relay {
  target: number | undefined;
  private waiting: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  async listen(): Promise<void> {
    const server = createServer((client) => {
      this.sockets.add(client);
      client.once("close", () => this.sockets.delete(client));
      const connect = () => {
        const upstream = new Socket();
        this.sockets.add(upstream);
        upstream.once("close", () => this.sockets.delete(upstream));
        upstream.connect(this.target ?? 0, "127.0.0.1", () => client.pipe(upstream).pipe(client));
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
      };
      // until the emulator's port is known, connections wait
      if (this.target === undefined) this.waiting.push(connect);
      else connect();
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  connectTo(port: number): void {
    this.target = port;
    for (const connect of this.waiting.splice(0)) connect();
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise((resolve) => server?.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

const relay = new Relay();
let stack: Stack;
beforeAll(async () => {
  await relay.listen();
  stack = await startStack({
    env: { TELEGRAM_API_ROOT: `http://127.0.0.1:${relay.port}` },
    logger,
    // Telegram's flood limits lifted: this file is about a Telegram outage, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 1_000 },
  });
  relay.connectTo(
    new URL(stack.telegram.apiRoot).port === "" ? 80 : Number(new URL(stack.telegram.apiRoot).port),
  );
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await relay.cut();
});

const post = (fingerprint: string) =>
  postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint, labels: { alertname: `TelegramAway${fingerprint}` } }),
    alertmanagerAuth,
  );

describe("a Telegram outage", () => {
  it("is one warning when it starts, one line when it ends, and the card waits for it", async () => {
    expect((await post("before")).status).toBe(202);
    await waitForChat(stack.telegram, (messages) => messages.length === 1, 15_000);
    const from = lines.length;

    await relay.cut();
    expect((await post("during")).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await relay.listen();
    await waitForChat(stack.telegram, (messages) => messages.length === 2, 60_000);

    // the emulator shows the card before its answer reaches the bot
    await expect
      .poll(() => lines.slice(from).some((line) => line.msg.endsWith("is reachable again")), {
        timeout: 5_000,
      })
      .toBe(true);
    const outage = lines.slice(from).filter((line) => line.msg.startsWith("Telegram at "));
    expect(outage.map((line) => [line.level, line.msg.replace(/^Telegram at \S+ /, "")])).toEqual([
      [40, "(TELEGRAM_API_ROOT) is unreachable; retrying"],
      [30, "(TELEGRAM_API_ROOT) is reachable again"],
    ]);
    expect(outage[1]?.errors).toBeGreaterThan(0);
    expect(lines.slice(from).filter((line) => line.level >= 40)).toHaveLength(1);
  }, 120_000);
});
