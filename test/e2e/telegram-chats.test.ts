// Chats that change under the bot, end to end through the whole bot and the Telegram emulator with
// Telegram's limits on: a group upgraded to a supergroup mid-incident (followed from the service
// message, or from the 400 a send gets when no update was read), also across a restart; a bot
// removed from a routed chat or pointed at a chat that does not exist (health, metrics, one log
// line, and the default chat takes the cards meanwhile).
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRuntime, type Runtime } from "../../app/runtime.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import {
  alertmanagerAuth,
  CHAT_ID,
  postJson,
  startStack,
  waitForChat,
  showsAnalysis,
  type Stack,
} from "../../dev/stack.js";
import type { CallRecord } from "../../dev/emulators/telegram.js";

/** A basic group (small negative id): the kind Telegram upgrades to a supergroup. */
const GROUP = -4012345678;
const P0_CHAT = -1002000000101;
const GHOST_CHAT = -1002000000999;

function captured() {
  const lines: { level: number; msg: string; chatId?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as { level: number; msg: string; chatId?: string });
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, stream) };
}

async function fire(
  url: string,
  fingerprint: string,
  labels: Record<string, string>,
  status: "firing" | "resolved" = "firing",
): Promise<void> {
  const payload = alertmanagerPayload({
    fingerprint,
    status,
    ...(status === "resolved" ? { startsAt: new Date(Date.now() - 60_000) } : {}),
    labels: { alertname: fingerprint, ...labels },
  });
  expect((await postJson(`${url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status).toBe(202);
}

const cardIn = (
  stack: Stack,
  chatId: number,
  needle: string,
  extra: (text: string) => boolean = () => true,
) =>
  waitForChat(
    stack.telegram,
    (messages) => messages.some((m) => m.from_bot && m.text.includes(needle) && extra(m.text)),
    30_000,
    chatId,
  ).then((messages) => messages.find((m) => m.from_bot && m.text.includes(needle) && extra(m.text)));

const okCallsTo = (calls: readonly CallRecord[], chatId: number) =>
  calls.filter((call) => call.status === "ok" && String(call.params.chat_id) === String(chatId));

interface Health {
  status: string;
  telegram: { unreachable: { chatId: string; reason: string; description: string }[] };
}

async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url}/api/v1/health`)).json()) as Health;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe("a group upgraded to a supergroup mid-incident, the bot reading updates", () => {
  let stack: Stack;
  let restarted: Runtime | undefined;
  let supergroup = 0;
  const log = captured();

  beforeAll(async () => {
    stack = await startStack({
      env: {
        TELEGRAM_CHAT_ID: String(GROUP),
        ESCALATE_P0_SECONDS: "2",
        TELEGRAM_ONCALL_USERNAMES: "oncall_sre",
      },
      logger: log.logger,
    });
  }, 60_000);
  afterAll(async () => {
    await restarted?.close();
    await stack?.close();
  });

  it("re-posts the open incident's card in the supergroup, and edits it there", async () => {
    await fire(stack.url, "MigratedMidIncident", { severity: "warning" });
    await cardIn(stack, GROUP, "MigratedMidIncident");

    const migratedAt = Date.now();
    supergroup = stack.telegram.migrateChat(GROUP);
    // the service message is enough: the card appears in the supergroup without another alert
    const moved = await cardIn(stack, supergroup, "MigratedMidIncident");
    expect(moved?.text).toContain("MigratedMidIncident");

    await fire(stack.url, "MigratedMidIncident", { severity: "warning" });
    await cardIn(stack, supergroup, "MigratedMidIncident", (text) => /2 occurrences/.test(text));
    const inSupergroup = stack.telegram.messages(supergroup).filter((m) => m.from_bot);
    expect(inSupergroup).toHaveLength(1);
    expect(okCallsTo(stack.telegram.calls, GROUP).filter((call) => call.at >= migratedAt)).toEqual([]);
    expect(log.lines.filter((line) => line.msg.includes("became a supergroup"))).toHaveLength(1);
  }, 60_000);

  it("keeps sending to the supergroup after the bot restarts, the configuration still naming the group", async () => {
    await stack.runtime.close();
    const restartedAt = Date.now();
    restarted = await startRuntime(stack.runtime.config, { logger: pino({ level: "silent" }) });
    const url = restarted.url ?? "";

    await fire(url, "AfterRestart", { severity: "warning" });
    await cardIn(stack, supergroup, "AfterRestart");
    // the open incident's later edits land in the supergroup too
    await fire(url, "MigratedMidIncident", { severity: "warning" }, "resolved");
    await cardIn(stack, supergroup, "MigratedMidIncident", (text) => /RESOLVED|Resolved|resolved/.test(text));

    // an escalation goes where the card is: the supergroup, replying to the card there
    await fire(url, "EscalatedAfterMigration", { severity: "critical" });
    const escalatedCard = await cardIn(stack, supergroup, "EscalatedAfterMigration");
    const escalation = await cardIn(stack, supergroup, "@oncall_sre");
    expect(escalation?.message.reply_to_message?.message_id).toBe(escalatedCard?.message_id);

    // the alias is read before sending: the old id is never tried again
    const toGroup = stack.telegram.calls.filter(
      (call) => call.at >= restartedAt && String(call.params.chat_id) === String(GROUP),
    );
    expect(toGroup).toEqual([]);
  }, 60_000);
});

describe("when the bot does not read updates (ROLES=http,worker)", () => {
  let stack: Stack;
  let supergroup = 0;
  const log = captured();

  beforeAll(async () => {
    stack = await startStack({
      env: {
        ROLES: "http,worker",
        TELEGRAM_CHAT_ID: String(GROUP),
        TELEGRAM_ROUTES: `P0=${P0_CHAT},namespace:ghost=${GHOST_CHAT}`,
      },
      // Telegram knows these chats only (and the supergroup once the group becomes one)
      telegram: { knownChats: [GROUP, P0_CHAT] },
      logger: log.logger,
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("follows a migration from the 400 an edit gets, and shows the card in the supergroup", async () => {
    await fire(stack.url, "MigratedByRefusal", { severity: "warning" });
    await cardIn(stack, GROUP, "MigratedByRefusal");
    supergroup = stack.telegram.migrateChat(GROUP);

    await fire(stack.url, "MigratedByRefusal", { severity: "warning" });
    await cardIn(stack, supergroup, "MigratedByRefusal", (text) => /2 occurrences/.test(text));
    const refused = stack.telegram.calls.filter(
      (call) => call.status === 400 && call.description?.includes("upgraded to a supergroup"),
    );
    expect(refused.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("treats a bot removed from a routed chat as a failure: health, metrics, one log line, the default chat", async () => {
    await fire(stack.url, "RemovedRoute", { severity: "critical", namespace: "awoooi-prod" });
    await cardIn(stack, P0_CHAT, "RemovedRoute");
    const removedAt = Date.now();
    stack.telegram.removeBot({ chatId: P0_CHAT });

    // the repeat edits a card in a chat the bot is no longer in: 403, then the default chat
    await fire(stack.url, "RemovedRoute", { severity: "critical", namespace: "awoooi-prod" });
    await cardIn(stack, supergroup, "RemovedRoute");
    // health and metrics say so within a minute (here: as soon as the send was refused)
    const reported = await health(stack.url);
    expect(reported.status).toBe("degraded");
    expect(reported.telegram.unreachable).toEqual([
      expect.objectContaining({
        chatId: String(P0_CHAT),
        reason: "removed",
        description: "Forbidden: bot was kicked from the supergroup chat",
      }),
    ]);
    expect(Date.now() - removedAt).toBeLessThan(60_000);
    const scraped = await metrics(stack.url);
    expect(scraped).toContain(`chatops_telegram_chat_unreachable{chat="${P0_CHAT}",reason="removed"} 1`);
    expect(scraped).toMatch(
      new RegExp(`chatops_telegram_delivery_failures_total\\{chat="${P0_CHAT}",reason="removed"\\} [1-9]`),
    );

    // a new P0 goes straight to the default chat, and the log said it once
    await fire(stack.url, "RemovedRouteAgain", { severity: "critical", namespace: "awoooi-prod" });
    await cardIn(stack, supergroup, "RemovedRouteAgain");
    const warned = log.lines.filter(
      (line) => line.msg.startsWith("Telegram chat unreachable") && line.chatId === String(P0_CHAT),
    );
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toContain(`default chat ${supergroup}`);
  }, 90_000);

  it("treats a chat Telegram does not know as a failure too", async () => {
    await fire(stack.url, "GhostRoute", { severity: "warning", namespace: "ghost" });
    await cardIn(stack, supergroup, "GhostRoute");
    const reported = await health(stack.url);
    expect(reported.telegram.unreachable).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          chatId: String(GHOST_CHAT),
          reason: "not_found",
          description: "Bad Request: chat not found",
        }),
      ]),
    );
    expect(await metrics(stack.url)).toContain(
      `chatops_telegram_chat_unreachable{chat="${GHOST_CHAT}",reason="not_found"} 1`,
    );
  }, 60_000);
});

describe("a removal Telegram announces (my_chat_member)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("reports the default chat degraded from the update alone, and clears it when the bot is back", async () => {
    stack.telegram.removeBot({ chatId: CHAT_ID });
    await expect
      .poll(async () => (await health(stack.url)).telegram.unreachable.map((chat) => chat.chatId), {
        timeout: 60_000,
        interval: 200,
      })
      .toEqual([String(CHAT_ID)]);
    expect((await health(stack.url)).status).toBe("degraded");
    expect(await metrics(stack.url)).toContain(
      `chatops_telegram_delivery_failures_total{chat="${CHAT_ID}",reason="removed"} 1`,
    );

    stack.telegram.addBot({ chatId: CHAT_ID });
    await expect
      .poll(async () => (await health(stack.url)).telegram.unreachable, { timeout: 10_000, interval: 200 })
      .toEqual([]);
    expect((await health(stack.url)).status).toBe("ok");
  }, 90_000);
});

describe("an escalation due after a migration nobody has read (ROLES=http,worker)", () => {
  const OTHER_GROUP = -4087654321;
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: {
        ROLES: "http,worker",
        TELEGRAM_CHAT_ID: String(OTHER_GROUP),
        ESCALATE_P0_SECONDS: "6",
        TELEGRAM_ONCALL_USERNAMES: "oncall_sre",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("mentions the on-call people in the supergroup, and shows the card there", async () => {
    await fire(stack.url, "EscalationFirst", { severity: "critical" });
    // the analysed card: nothing else edits it before the escalation is due
    await cardIn(stack, OTHER_GROUP, "EscalationFirst", showsAnalysis);
    const supergroup = stack.telegram.migrateChat(OTHER_GROUP);

    const escalation = await cardIn(stack, supergroup, "@oncall_sre");
    expect(escalation?.text).toContain("EscalationFirst");
    await cardIn(stack, supergroup, "EscalationFirst", (text) => !text.includes("@oncall_sre"));
    // the old group refused whichever send came first (the escalation, or the card's edit)
    const refused = stack.telegram.calls.filter(
      (call) => call.status === 400 && String(call.params.chat_id) === String(OTHER_GROUP),
    );
    expect(refused.length).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
