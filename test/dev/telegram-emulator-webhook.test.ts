// The Telegram emulator's webhook mode, as the Bot API documents it (core.telegram.org/bots/api
// #setwebhook, #getwebhookinfo, #getupdates): updates arrive by POST with the secret header, a
// failed delivery is retried and reported by getWebhookInfo, getUpdates is refused while a
// webhook is set, and deleteWebhook goes back to polling without losing what is pending.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Api, GrammyError } from "grammy";
import type { Update } from "grammy/types";
import { afterEach, describe, expect, it, vi } from "vitest";
import { freePort } from "../../dev/processes.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const PRIVATE = 4242;
const SECRET = "s3cret_TOKEN-for-the-webhook";

interface Received {
  readonly update: Update;
  readonly secret: string | undefined;
  readonly contentType: string | undefined;
}

/** A webhook receiver on loopback that answers `status()` to every POST and keeps what it got. */
async function receiver(status: () => number = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const code = status();
      if (code >= 200 && code < 300) {
        const secret = req.headers["x-telegram-bot-api-secret-token"];
        received.push({
          update: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Update,
          secret: typeof secret === "string" ? secret : undefined,
          contentType: req.headers["content-type"],
        });
      }
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/telegram/webhook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let emulator: TelegramEmulator | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function boot(retryMs = 50) {
  emulator = await TelegramEmulator.start({ webhookRetryMs: retryMs });
  return { emu: emulator, api: new Api(emulator.token, { apiRoot: emulator.apiRoot }) };
}

async function rejection(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

describe("webhook mode", () => {
  it("POSTs every update to the webhook with the secret header, in JSON", async () => {
    const { emu, api } = await boot();
    const hook = await receiver();
    cleanups.push(hook.close);
    expect(await api.setWebhook(hook.url, { secret_token: SECRET })).toBe(true);

    const sent = emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "hello" });
    await vi.waitFor(() => expect(hook.received).toHaveLength(1));
    const [first] = hook.received;
    expect(first?.secret).toBe(SECRET);
    expect(first?.contentType).toBe("application/json");
    expect(first?.update.message?.message_id).toBe(sent.message_id);
    expect(first?.update.message?.text).toBe("hello");

    await vi.waitFor(async () => expect((await api.getWebhookInfo()).pending_update_count).toBe(0));
    const info = await api.getWebhookInfo();
    expect(info.url).toBe(hook.url);
    expect(info.last_error_message).toBeUndefined();
  });

  it("sends no secret header when setWebhook had no secret_token", async () => {
    const { emu, api } = await boot();
    const hook = await receiver();
    cleanups.push(hook.close);
    await api.setWebhook(hook.url);
    emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "hi" });
    await vi.waitFor(() => expect(hook.received).toHaveLength(1));
    expect(hook.received[0]?.secret).toBeUndefined();
  });

  it("refuses getUpdates with 409 while a webhook is set, and polls again after deleteWebhook", async () => {
    const { emu, api } = await boot();
    const url = `http://127.0.0.1:${await freePort()}/hook`; // nothing listens: updates stay pending
    await api.setWebhook(url, { secret_token: SECRET });
    emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "kept" });

    const conflict = await rejection(api.getUpdates());
    expect(conflict.error_code).toBe(409);
    expect(conflict.description).toBe(
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    );

    expect(await api.deleteWebhook()).toBe(true);
    expect((await api.getWebhookInfo()).url).toBe("");
    expect((await api.getUpdates()).map((u) => u.message?.text)).toEqual(["kept"]);
  });

  it("ends a waiting long poll with the same 409 when a webhook is set", async () => {
    const { emu, api } = await boot();
    const poll = api.getUpdates({ timeout: 10 });
    await vi.waitFor(() => expect(emu.pollPending).toBe(true));
    const hook = await receiver();
    cleanups.push(hook.close);
    await api.setWebhook(hook.url);
    const conflict = await rejection(poll);
    expect(conflict.error_code).toBe(409);
    expect(conflict.description).toContain("webhook is active");
  });

  it("retries a delivery the webhook answered with non-2xx, reporting the error meanwhile", async () => {
    const { emu, api } = await boot();
    let answer = 401;
    const hook = await receiver(() => answer);
    cleanups.push(hook.close);
    await api.setWebhook(hook.url, { secret_token: SECRET });
    emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "press" });

    await vi.waitFor(async () =>
      expect((await api.getWebhookInfo()).last_error_message).toBe(
        "Wrong response from the webhook: 401 Unauthorized",
      ),
    );
    const failing = await api.getWebhookInfo();
    expect(failing.pending_update_count).toBe(1);
    expect(failing.last_error_date).toBeGreaterThan(0);
    expect(hook.received).toHaveLength(0);

    answer = 200;
    await vi.waitFor(() => expect(hook.received).toHaveLength(1));
    expect(hook.received[0]?.update.message?.text).toBe("press");
    await vi.waitFor(async () => expect((await api.getWebhookInfo()).pending_update_count).toBe(0));
    expect(emu.calls.filter((call) => call.method === "getUpdates")).toHaveLength(0);
  });

  it("reports a webhook nobody listens on as Connection refused, and delivers once it is up", async () => {
    const { emu, api } = await boot();
    const port = await freePort();
    await api.setWebhook(`http://127.0.0.1:${port}/hook`);
    emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "waiting" });
    await vi.waitFor(async () =>
      expect((await api.getWebhookInfo()).last_error_message).toBe("Connection refused"),
    );

    const got: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        got.push((JSON.parse(body) as Update).message?.text ?? "");
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await vi.waitFor(() => expect(got).toEqual(["waiting"]));
  });

  it("drops update types outside the webhook's allowed_updates", async () => {
    const { emu, api } = await boot();
    const hook = await receiver();
    cleanups.push(hook.close);
    await api.setWebhook(hook.url, { allowed_updates: ["callback_query"] });
    expect(emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "not wanted" })).toBeDefined();
    const card = await api.sendMessage(PRIVATE, "card", {
      reply_markup: { inline_keyboard: [[{ text: "Go", callback_data: "go" }]] },
    });
    emu.pressButton({ chatId: PRIVATE, messageId: card.message_id, fromUserId: PRIVATE, data: "go" });
    await vi.waitFor(() => expect(hook.received).toHaveLength(1));
    expect(hook.received[0]?.update.callback_query?.data).toBe("go");
    expect((await api.getWebhookInfo()).allowed_updates).toEqual(["callback_query"]);
  });

  it("checks setWebhook's parameters as Telegram does", async () => {
    const { api } = await boot();
    const plain = await rejection(api.setWebhook("http://bot.example.org/hook"));
    expect(plain.description).toBe("Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    const port = await rejection(api.setWebhook("https://bot.example.org:9000/hook"));
    expect(port.description).toBe(
      "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
    );
    const secret = await rejection(
      api.setWebhook("https://bot.example.org/hook", { secret_token: "no spaces" }),
    );
    expect(secret.error_code).toBe(400);
    expect((await api.getWebhookInfo()).url).toBe("");
    // an empty URL removes the webhook, as deleteWebhook does
    expect(await api.setWebhook("https://bot.example.org/hook")).toBe(true);
    expect((await api.getWebhookInfo()).url).toBe("https://bot.example.org/hook");
    expect(await api.setWebhook("")).toBe(true);
    expect((await api.getWebhookInfo()).url).toBe("");
  });
});
