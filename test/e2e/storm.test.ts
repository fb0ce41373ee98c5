// An alert storm through the whole bot, with the Telegram emulator enforcing Telegram's limits and
// the bot's default client throttle: beyond the threshold new incidents fold into one storm card,
// a P0 still gets its own, nothing is refused with 429, every incident is in the API, and the storm
// card is finalised once the storm subsides, after which new incidents get their own cards again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldsOfIncident } from "../../db/storms.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import { busiestMinute, type EmulatedMessage } from "../../dev/emulators/telegram.js";

const THRESHOLD = 4;
const WINDOW_SECONDS = 10;
const SERVICES = 6;
const PER_SERVICE = 10;
// long enough for the own cards to be posted first on a loaded machine: with 6 s, a card still waiting
// behind the chat budget had its escalation sent before it, as a plain message with nothing to reply to
const ESCALATE_P2_SECONDS = 20;
const BEARER = { authorization: `Bearer ${TEST_SECRETS.apiToken}` };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      STORM_THRESHOLD: String(THRESHOLD),
      STORM_WINDOW_SECONDS: String(WINDOW_SECONDS),
      // the storm's P2 incidents go unacknowledged past their deadline during the test
      ESCALATE_P2_SECONDS: String(ESCALATE_P2_SECONDS),
      TELEGRAM_ONCALL_USERNAMES: "alice",
    },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const isStormCard = (message: EmulatedMessage) => /Alert storm|Storm over/.test(message.text);
const isEscalation = (message: EmulatedMessage) => message.text.startsWith("⏫");

async function listedIncidents(): Promise<string[]> {
  const response = await fetch(`${stack.url}/api/v1/incidents?limit=500`, { headers: BEARER });
  const body = (await response.json()) as { incidents: { id: string }[] };
  return body.incidents.map((incident) => incident.id);
}

describe("an alert storm", () => {
  it(
    "folds incidents beyond the threshold into one storm card, stays inside Telegram's limits and loses none",
    { timeout: 180_000 },
    async () => {
      for (let service = 0; service < SERVICES; service++) {
        const payload = alertmanagerPayload({
          fingerprint: `storm-${service}`,
          count: PER_SERVICE,
          labels: { alertname: "StormProbeFailing", severity: "warning", service: `svc-${service}` },
        });
        expect(
          (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
        ).toBe(202);
      }
      // a P0 in the middle of the storm still gets its own card
      const stormCard = await waitForChat(stack.telegram, (messages) => messages.some(isStormCard), 30_000);
      expect(stormCard.filter(isStormCard)).toHaveLength(1);
      const p0 = alertmanagerPayload({
        fingerprint: "storm-p0",
        labels: { alertname: "DatabaseDown", severity: "critical", service: "postgres" },
      });
      expect((await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, p0, alertmanagerAuth)).status).toBe(
        202,
      );

      const total = SERVICES * PER_SERVICE + 1;
      await expect
        .poll(async () => (await listedIncidents()).length, { timeout: 30_000, interval: 200 })
        .toBe(total);

      const messages = await waitForChat(
        stack.telegram,
        (all) => all.some((message) => isStormCard(message) && message.text.includes("Storm over")),
        120_000,
      );
      const storms = messages.filter(isStormCard);
      expect(storms).toHaveLength(1);
      const storm = storms[0] as EmulatedMessage;
      const folded = total - THRESHOLD;
      expect(storm.text).toContain(`Storm over: ${folded} incidents, ${folded} still open`);
      // it was edited as counts changed, never re-posted
      expect(storm.editCount).toBeGreaterThanOrEqual(1);
      expect(storm.history.some((version) => version.text.includes("Alert storm"))).toBe(true);

      // own cards: the first THRESHOLD incidents, plus the P0 promoted out of the storm
      const cards = messages.filter((message) => !isStormCard(message) && !isEscalation(message));
      const shown = cards.map((message) => /INC-\d{8}-\d{4,}/.exec(message.text)?.[0]);
      expect(cards).toHaveLength(THRESHOLD + 1);
      const { rows } = await stack.db.pool.query<{ id: string }>(
        "SELECT id FROM incidents WHERE fingerprint = 'storm-p0'",
      );
      const p0Id = rows[0]?.id ?? "";
      expect(shown).toContain(p0Id);
      const [p0Fold] = await foldsOfIncident(stack.db.pool, p0Id);
      expect(p0Fold?.promotedAt).not.toBeNull();
      const { rows: foldCount } = await stack.db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM storm_folds WHERE chat_id = $1",
        [String(CHAT_ID)],
      );
      expect(foldCount[0]?.n).toBe(folded);
      // a folded incident's detail names the storm card that stood in for it
      const foldedId = (await listedIncidents()).find((id) => !shown.includes(id)) ?? "";
      const detail = (await (
        await fetch(`${stack.url}/api/v1/incidents/${foldedId}`, { headers: BEARER })
      ).json()) as { stormFolds: { chatId: string; promotedAt: string | null }[] };
      expect(detail.stormFolds).toEqual([
        expect.objectContaining({ chatId: String(CHAT_ID), promotedAt: null }),
      ]);

      expect(stack.telegram.calls.filter((call) => call.status === 429)).toEqual([]);
      // posts and edits that reached the chat within any 60 s
      expect(
        busiestMinute(stack.telegram.calls, CHAT_ID, ["sendMessage", "editMessageText"]),
      ).toBeLessThanOrEqual(20);

      // escalation: every P2 escalated; each own card got its reply, the storm one mention in all
      await expect
        .poll(
          async () =>
            (
              await stack.db.pool.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM incidents WHERE severity = 'P2' AND escalated_at IS NOT NULL",
              )
            ).rows[0]?.n,
          { timeout: 30_000, interval: 200 },
        )
        .toBe(SERVICES * PER_SERVICE);
      const escalations = await waitForChat(
        stack.telegram,
        (all) => all.filter(isEscalation).length >= THRESHOLD + 1,
        60_000,
      ).then((all) => all.filter(isEscalation));
      const stormMentions = escalations.filter((message) =>
        message.text.includes("Folded into the storm card"),
      );
      expect(stormMentions).toHaveLength(1);
      expect(stormMentions[0]?.message.reply_to_message?.message_id).toBe(storm.message_id);
      const cardIds = new Set(cards.map((card) => card.message_id));
      const replies = escalations.filter((message) =>
        cardIds.has(message.message.reply_to_message?.message_id ?? 0),
      );
      expect(replies).toHaveLength(THRESHOLD);
      expect(escalations).toHaveLength(THRESHOLD + 1);

      // the storm is over: the next new incident gets its own card again
      const after = alertmanagerPayload({
        fingerprint: "after-storm",
        labels: { alertname: "AfterStorm", severity: "warning", service: "svc-after" },
      });
      expect(
        (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, after, alertmanagerAuth)).status,
      ).toBe(202);
      const resumed = await waitForChat(
        stack.telegram,
        (all) => all.some((message) => message.text.includes("AfterStorm")),
        90_000,
      );
      expect(resumed.filter(isStormCard)).toHaveLength(1);
      expect(stack.telegram.calls.filter((call) => call.status === 429)).toEqual([]);
    },
  );
});
