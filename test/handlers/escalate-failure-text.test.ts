// The escalation of a failed repair says what failed in the chat's language: from the failure's
// reason the timeline kept (the executor's guard or verification, the automatic rollback after it),
// on real PostgreSQL and the Telegram emulator's Bot API. The English words stay the audit log's
// and the escalation queue's; an escalation recorded before the reason was kept shows them.
import { Api } from "grammy";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { telegramNotices } from "../../bot/telegram-notices.js";
import { addEvent, insertIncident } from "../../db/incidents.js";
import type { Language } from "../../domain/i18n/index.js";
import { escalateIncident } from "../../handlers/escalate-incident.js";
import { refusal, verdict } from "../../executors/executor.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const CHAT = -4055555501;

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
      title: "ApiDown",
      labels: { alertname: "ApiDown" },
      annotations: {},
      links: [],
    },
    new Date(),
  );
}

/** Escalates `incidentId` for its failed repair and returns the message the chat got. */
async function escalate(incidentId: string, detail: string, language: Language): Promise<string> {
  const result = await escalateIncident(
    {
      pool: db.pool,
      notices: telegramNotices(new Api(telegram.token, { apiRoot: telegram.apiRoot }), { language }),
      chatIds: () => [String(CHAT)],
      oncallUsernames: ["oncall_sre"],
      afterSeconds: { P0: 300, P1: 900, P2: 3600 },
    },
    { incidentId, reason: "repair_failed", detail },
  );
  expect(result).toMatchObject({ outcome: "escalated", notified: [String(CHAT)] });
  const sent = telegram.messages(CHAT).filter((message) => message.from_bot);
  return sent.at(-1)?.text ?? "";
}

describe("the escalation of a failed repair", () => {
  it("says a verification that failed, and the rollback after it, in the chat's language", async () => {
    telegram = await TelegramEmulator.start();
    const seen = verdict("failed", {
      code: "rollout_deadline",
      namespace: "shop",
      deployment: "web",
      seconds: 600,
    });
    const english =
      "RESTART_POD failed: shop/web: the rollout exceeded its progress deadline (600s, ProgressDeadlineExceeded); rolled back automatically to revision 4";
    for (const [id, language] of [
      ["INC-20260101-0901", "en"],
      ["INC-20260101-0902", "zh-TW"],
    ] as const) {
      await incident(id);
      await addEvent(db.pool, id, "execution_failed", {
        action: "RESTART_POD",
        error: seen.detail,
        reason: { code: "verify_failed", detail: seen.detail, said: seen.said },
        then: { code: "rolled_back", revision: "4" },
      });
      const text = await escalate(id, english, language);
      if (language === "en") expect(text).toContain(`repair failed: ${english}`);
      else {
        expect(text).toContain(
          "修復失敗：RESTART_POD 失敗：shop/web：rollout 超過進度期限（600 秒，ProgressDeadlineExceeded）；已自動回滾至版本 4",
        );
      }
    }
  });

  it("says a guard's refusal of the automatic rollback in the chat's language", async () => {
    telegram = await TelegramEmulator.start();
    await incident("INC-20260101-0903");
    const guard = refusal("previous_revision", { code: "no_earlier_revision" });
    await addEvent(db.pool, "INC-20260101-0903", "execution_failed", {
      action: "RESTART_POD",
      error: "not recovered before the deadline: the new revision has not been created yet",
      reason: {
        code: "not_recovered",
        waiting: "the new revision has not been created yet",
        said: verdict("pending", { code: "revision_not_created" }).said,
      },
      then: { code: "rollback_guard", rule: guard.rule, reason: guard.reason, said: guard.said },
    });
    const text = await escalate(
      "INC-20260101-0903",
      "RESTART_POD failed: not recovered before the deadline: the new revision has not been created yet; automatic rollback refused: previous_revision: there is no earlier revision to go back to",
      "zh-TW",
    );
    expect(text).toContain(
      "RESTART_POD 失敗：期限前未恢復：新版本尚未建立；自動回滾被拒：防護檢查 previous_revision 未通過：沒有更早的版本可回復",
    );
  });

  it("keeps the English detail of a failure recorded before its reason was kept", async () => {
    telegram = await TelegramEmulator.start();
    await incident("INC-20260101-0904");
    await addEvent(db.pool, "INC-20260101-0904", "execution_failed", {
      action: "RESTART_CONTAINER",
      error: "container is unhealthy",
    });
    const text = await escalate(
      "INC-20260101-0904",
      "RESTART_CONTAINER failed: container is unhealthy",
      "zh-TW",
    );
    expect(text).toContain("修復失敗：RESTART_CONTAINER failed: container is unhealthy");
  });

  it("keeps the English detail when the latest failure on the timeline is not the one escalated", async () => {
    telegram = await TelegramEmulator.start();
    await incident("INC-20260101-0905");
    const unhealthy = verdict("failed", { code: "container_unhealthy" });
    await addEvent(db.pool, "INC-20260101-0905", "execution_failed", {
      action: "RESTART_CONTAINER",
      error: unhealthy.detail,
      reason: { code: "verify_failed", detail: unhealthy.detail, said: unhealthy.said },
    });
    const text = await escalate("INC-20260101-0905", "CLEAR_CACHE failed: execution failed: boom", "zh-TW");
    expect(text).toContain("修復失敗：CLEAR_CACHE failed: execution failed: boom");
  });
});
