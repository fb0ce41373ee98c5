// An escalation sent to a chat that takes no message, on real PostgreSQL and the Telegram
// emulator's Bot API: a group upgraded to a supergroup is followed (the mention goes there and
// the alias is kept), a chat the bot was removed from is reported and the default chat told.
import { Api } from "grammy";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { telegramNotices } from "../../bot/telegram-notices.js";
import { chatAliases, chatFailures } from "../../db/chats.js";
import { insertIncident } from "../../db/incidents.js";
import type { ChatDeliveryDeps } from "../../handlers/chat-delivery.js";
import { escalateIncident } from "../../handlers/escalate-incident.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const HOME = -4055555555;
const ROUTED = -1002000000777;

let db: TestDatabase;
let telegram: TelegramEmulator;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
afterEach(async () => {
  await telegram.close();
});

async function incident(id: string): Promise<void> {
  await insertIncident(
    db.pool,
    id,
    {
      source: "alertmanager",
      fingerprint: id,
      severity: "P0",
      title: "DatabaseDown",
      labels: { alertname: "DatabaseDown" },
      annotations: {},
      links: [],
    },
    new Date(),
  );
}

async function escalate(incidentId: string, chatIds: string[]) {
  const queued: string[] = [];
  const delivery: ChatDeliveryDeps = {
    db: db.pool,
    defaultChatId: String(HOME),
    enqueueCard: (id) => Promise.resolve(queued.push(id)),
  };
  const result = await escalateIncident(
    {
      pool: db.pool,
      notices: telegramNotices(new Api(telegram.token, { apiRoot: telegram.apiRoot })),
      chatIds: () => chatIds,
      oncallUsernames: ["oncall_sre"],
      afterSeconds: { P0: 300, P1: 900, P2: 3600 },
      delivery,
    },
    { incidentId, reason: "repair_failed", detail: "the pod never became Ready" },
  );
  return { result, queued };
}

describe("escalating into a chat that refuses", () => {
  it("follows a group that became a supergroup and mentions the on-call people there", async () => {
    telegram = await TelegramEmulator.start();
    const supergroup = telegram.migrateChat(HOME);
    await incident("INC-20260101-0801");
    const { result } = await escalate("INC-20260101-0801", [String(HOME)]);
    expect(result).toEqual({ outcome: "escalated", notified: [String(supergroup)] });
    expect(
      telegram
        .messages(supergroup)
        .filter((m) => m.from_bot)
        .map((m) => m.text),
    ).toEqual([expect.stringContaining("@oncall_sre")]);
    expect(await chatAliases(db.pool, [String(HOME)])).toEqual(new Map([[String(HOME), String(supergroup)]]));
  });

  it("reports a routed chat the bot was removed from and tells the default chat instead", async () => {
    telegram = await TelegramEmulator.start();
    const supergroup = telegram.migrateChat(HOME);
    telegram.removeBot({ chatId: ROUTED });
    await incident("INC-20260101-0802");
    const { result } = await escalate("INC-20260101-0802", [String(ROUTED)]);
    // the default chat, as the alias of the test above names it now
    expect(result).toEqual({ outcome: "escalated", notified: [String(supergroup)] });
    expect(await chatFailures(db.pool)).toEqual([
      expect.objectContaining({
        chatId: String(ROUTED),
        reason: "removed",
        description: "Forbidden: bot was kicked from the supergroup chat",
      }),
    ]);
  });
});
