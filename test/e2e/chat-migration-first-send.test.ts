// A group upgraded to a supergroup that the bot was not told about (it missed the service
// messages), where the first thing sent to the group afterwards is not a card: a storm's summary
// card, or a snooze reminder. Each takes the same delivery path as a card: it lands in the
// supergroup, the open incidents' cards follow, and every later edit lands there too. Through
// the whole bot and the Telegram emulator with Telegram's limits on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getIncident, telegramMessages } from "../../db/incidents.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import {
  alertmanagerAuth,
  buttonData,
  postJson,
  startStack,
  showsAnalysis,
  type Stack,
} from "../../dev/stack.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";

/** Basic groups (small negative ids): the kind Telegram upgrades to a supergroup. */
const STORM_GROUP = -4012345001;
const SNOOZE_GROUP = -4012345002;
const ALICE = { fromUserId: 1001, username: "alice" };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      TELEGRAM_CHAT_ID: String(STORM_GROUP),
      TELEGRAM_ROUTES: `namespace:snoozing=${SNOOZE_GROUP}`,
      STORM_THRESHOLD: "2",
      STORM_WINDOW_SECONDS: "30",
    },
    telegram: { knownChats: [STORM_GROUP, SNOOZE_GROUP] },
    // minutes become seconds: the reminder comes while the test watches
    runtime: { chatops: { snoozeDurations: { "15m": 5_000, "1h": 6_000, "4h": 7_000 } } },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

async function fire(fingerprint: string, labels: Record<string, string> = {}): Promise<void> {
  const payload = alertmanagerPayload({
    fingerprint,
    labels: { alertname: fingerprint, severity: "warning", ...labels },
  });
  expect(
    (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
  ).toBe(202);
}

async function botMessageIn(
  chatId: number,
  matches: (m: EmulatedMessage) => boolean,
): Promise<EmulatedMessage> {
  let found: EmulatedMessage | undefined;
  await expect
    .poll(
      () => {
        found = stack.telegram.messages(chatId).find((m) => m.from_bot && matches(m));
        return found !== undefined;
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(true);
  if (found === undefined) throw new Error("unreachable");
  return found;
}

/** Nothing left to analyse or to show: the intake, analysis and card queues are empty. */
async function settled(): Promise<void> {
  const { ingest, analyze, notify } = stack.runtime.queues;
  await expect
    .poll(
      async () => {
        const counts = await Promise.all(
          [ingest, analyze, notify].map((queue) => queue.getJobCounts("waiting", "active", "delayed")),
        );
        return counts.flatMap((count) => Object.values(count)).every((n) => n === 0);
      },
      { timeout: 30_000, interval: 100 },
    )
    .toBe(true);
}

/** Calls Telegram took for `chatId` since `since` (ms), as the emulator recorded them. */
const okCallsTo = (chatId: number, since: number) =>
  stack.telegram.calls.filter(
    (call) => call.status === "ok" && call.at >= since && String(call.params.chat_id) === String(chatId),
  );

const isStormCard = (m: EmulatedMessage) => /Alert storm|Storm over/.test(m.text);
/** An incident's own card (not the storm card or a reminder that name it). */
const isCardOf = (title: string) => (m: EmulatedMessage) =>
  m.text.includes(title) && m.text.includes("via Alertmanager");

describe("a migrated group whose first message after the migration is a storm card", () => {
  it("shows the storm card in the supergroup, and the cards and their later edits follow", async () => {
    // two incidents get their own cards, the next ones fold into the group's storm card
    for (const name of ["StormFirstA", "StormFirstB"]) {
      await fire(name);
      await botMessageIn(STORM_GROUP, isCardOf(name));
    }
    for (const name of ["StormFirstC", "StormFirstD"]) await fire(name);
    await botMessageIn(STORM_GROUP, isStormCard);
    // every card is up to date: no card edit is left to meet the migration first
    for (const name of ["StormFirstA", "StormFirstB"])
      await botMessageIn(STORM_GROUP, (m) => isCardOf(name)(m) && showsAnalysis(m.text));
    await settled();

    const migratedAt = Date.now();
    const supergroup = stack.telegram.migrateChat(STORM_GROUP, { missed: true });
    // a new incident folds into the storm, whose card is edited: the first call to the old group
    await fire("StormFirstE");
    await botMessageIn(supergroup, isStormCard);
    const refused = stack.telegram.calls.filter(
      (call) => call.at >= migratedAt && call.description?.includes("upgraded to a supergroup") === true,
    );
    // the storm card's edit was the call that met the migration
    expect(refused[0]?.method).toBe("editMessageText");
    expect(String(refused[0]?.params.text)).toMatch(/Alert storm|Storm over/);

    // the cards shown in the group are shown again in the supergroup, and edited there
    const moved = await botMessageIn(supergroup, isCardOf("StormFirstA"));
    await fire("StormFirstA");
    await botMessageIn(supergroup, (m) => m.message_id === moved.message_id && /2 occurrences/.test(m.text));
    expect(okCallsTo(STORM_GROUP, migratedAt)).toEqual([]);
  }, 90_000);
});

describe("a migrated group whose first message after the migration is a snooze reminder", () => {
  it("reminds in the supergroup, where the card is shown again and edited from then on", async () => {
    await fire("SnoozedThenMoved", { namespace: "snoozing" });
    const card = await botMessageIn(SNOOZE_GROUP, isCardOf("SnoozedThenMoved"));
    const [shown] = await telegramMessages(
      stack.db.pool,
      (
        await stack.db.pool.query<{ id: string }>(`SELECT id FROM incidents WHERE fingerprint = $1`, [
          "SnoozedThenMoved",
        ])
      ).rows[0]?.id ?? "",
    );
    const incidentId = shown?.incidentId ?? "";
    const press = (data: string) =>
      stack.telegram.pressButton({ chatId: SNOOZE_GROUP, messageId: card.message_id, ...ALICE, data });
    const keyboard = () =>
      JSON.stringify(stack.telegram.message(SNOOZE_GROUP, card.message_id)?.reply_markup);
    // the analysis has shown its proposal: no later edit replaces the keyboard the press asks for
    await expect.poll(keyboard, { timeout: 15_000 }).toContain(`v1:approve:${incidentId}`);
    press(buttonData(stack.telegram, card.message_id, "snooze", SNOOZE_GROUP));
    // the card's keyboard becomes the choices
    await expect.poll(keyboard, { timeout: 10_000 }).toContain(`v1:snooze:${incidentId}:15m`);
    press(`v1:snooze:${incidentId}:15m`);
    await expect
      .poll(async () => (await getIncident(stack.db.pool, incidentId))?.snoozedUntil)
      .not.toBeNull();
    // the card has shown the snooze: the group has nothing more to be sent until the reminder
    await expect
      .poll(() => stack.telegram.message(SNOOZE_GROUP, card.message_id)?.text ?? "", { timeout: 10_000 })
      .toContain("snoozed by @alice");

    // the group becomes a supergroup while the snooze runs; nothing is sent to it meanwhile
    const migratedAt = Date.now();
    const supergroup = stack.telegram.migrateChat(SNOOZE_GROUP, { missed: true });
    const reminder = await botMessageIn(supergroup, (m) =>
      m.text.startsWith(`⏰ Snooze over: ${incidentId}`),
    );
    const refused = stack.telegram.calls.filter(
      (call) => call.at >= migratedAt && call.description?.includes("upgraded to a supergroup") === true,
    );
    expect(refused[0]?.method).toBe("sendMessage");
    expect(refused[0]?.params.text).toEqual(reminder.text);

    // the card is shown again in the supergroup, and its later edits land there
    const moved = await botMessageIn(supergroup, isCardOf("SnoozedThenMoved"));
    await fire("SnoozedThenMoved", { namespace: "snoozing" });
    await botMessageIn(supergroup, (m) => m.message_id === moved.message_id && /2 occurrences/.test(m.text));
    expect(okCallsTo(SNOOZE_GROUP, migratedAt)).toEqual([]);
  }, 90_000);
});
