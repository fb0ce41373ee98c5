// Forum topics end to end, through the whole bot and the Telegram emulator with Telegram's limits
// on: TELEGRAM_CHAT_ID and TELEGRAM_ROUTES name topics (`<chat id>/<message_thread_id>`), and the
// cards, the escalation replying to a card, and a storm's summary card land in them; a command or
// a button pressed inside a topic is answered in that topic; a deleted topic is reported like an
// unreachable chat (health, metrics) and its cards go to the chat's General topic meanwhile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { buttonData } from "../../dev/stack.js";
import { alertmanagerAuth, postJson, startStack, type Stack } from "../../dev/stack.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";

/** The default chat's forum and its "Incidents" topic. */
const FORUM = -1002000000301;
const INCIDENTS = 42;
/** The P0 route's forum and topic. */
const P0_FORUM = -1002000000302;
const P0_TOPIC = 7;
/** The namespace route whose incidents storm. */
const STORM_FORUM = -1002000000303;
const STORM_TOPIC = 5;
const ALICE = 1001;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      TELEGRAM_CHAT_ID: `${FORUM}/${INCIDENTS}`,
      TELEGRAM_ROUTES: `P0=${P0_FORUM}/${P0_TOPIC},namespace:storming=${STORM_FORUM}/${STORM_TOPIC}`,
      ESCALATE_P0_SECONDS: "2",
      TELEGRAM_ONCALL_USERNAMES: "oncall_sre",
      STORM_THRESHOLD: "2",
      STORM_WINDOW_SECONDS: "30",
    },
    telegram: {
      forumTopics: [
        { chatId: FORUM, threadId: INCIDENTS, name: "Incidents" },
        { chatId: P0_FORUM, threadId: P0_TOPIC, name: "P0" },
        { chatId: STORM_FORUM, threadId: STORM_TOPIC, name: "Monitoring" },
      ],
    },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

async function fire(fingerprint: string, labels: Record<string, string>): Promise<void> {
  const payload = alertmanagerPayload({ fingerprint, labels: { alertname: fingerprint, ...labels } });
  expect(
    (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
  ).toBe(202);
}

/** The bot's message in `chatId`'s topic (undefined: General) that `matches`, once it is there. */
async function botMessageIn(
  chatId: number,
  topic: number | undefined,
  matches: (message: EmulatedMessage) => boolean,
): Promise<EmulatedMessage> {
  let found: EmulatedMessage | undefined;
  await expect
    .poll(
      () => {
        found = stack.telegram.topicMessages(chatId, topic).find((m) => m.from_bot && matches(m));
        return found !== undefined;
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(true);
  if (found === undefined) throw new Error("unreachable");
  return found;
}

const botMessagesIn = (chatId: number, topic: number | undefined) =>
  stack.telegram.topicMessages(chatId, topic).filter((m) => m.from_bot);

describe("routes that name forum topics", () => {
  it("posts the default chat's cards into its topic, and edits them there", async () => {
    await fire("TopicCard", { severity: "warning" });
    const card = await botMessageIn(FORUM, INCIDENTS, (m) => m.text.includes("TopicCard"));
    expect(card.message).toMatchObject({ message_thread_id: INCIDENTS, is_topic_message: true });

    await fire("TopicCard", { severity: "warning" });
    await botMessageIn(
      FORUM,
      INCIDENTS,
      (m) => m.message_id === card.message_id && /2 occurrences/.test(m.text),
    );
    expect(botMessagesIn(FORUM, undefined)).toEqual([]);
  }, 60_000);

  it("posts a P0 into its route's topic, and the escalation replies to the card in that topic", async () => {
    await fire("TopicEscalation", { severity: "critical" });
    const card = await botMessageIn(P0_FORUM, P0_TOPIC, (m) => m.text.includes("TopicEscalation"));
    const escalation = await botMessageIn(P0_FORUM, P0_TOPIC, (m) => m.text.includes("@oncall_sre"));
    expect(escalation.message.reply_to_message?.message_id).toBe(card.message_id);
    expect(escalation.message).toMatchObject({ message_thread_id: P0_TOPIC, is_topic_message: true });
    expect(botMessagesIn(P0_FORUM, undefined)).toEqual([]);
  }, 60_000);

  it("posts a storm's summary card into the topic the storm's incidents are routed to", async () => {
    for (const name of ["StormA", "StormB", "StormC", "StormD"])
      await fire(name, { severity: "warning", namespace: "storming" });
    const storm = await botMessageIn(STORM_FORUM, STORM_TOPIC, (m) => /Alert storm|Storm over/.test(m.text));
    expect(storm.message).toMatchObject({ message_thread_id: STORM_TOPIC, is_topic_message: true });
    expect(botMessagesIn(STORM_FORUM, undefined)).toEqual([]);
  }, 60_000);

  it("answers a command written in a topic in that topic", async () => {
    const before = botMessagesIn(FORUM, INCIDENTS).length;
    const asked = stack.telegram.sendUserMessage({
      chatId: FORUM,
      fromUserId: ALICE,
      text: "/incidents",
      threadId: INCIDENTS,
    });
    await expect
      .poll(() => botMessagesIn(FORUM, INCIDENTS).length, { timeout: 15_000, interval: 50 })
      .toBeGreaterThan(before);
    // no alert fires here: the new message is the answer, the list of open incidents with a button each
    const answer = botMessagesIn(FORUM, INCIDENTS).at(-1);
    expect(answer?.message_id).toBeGreaterThan(asked.message_id);
    expect(JSON.stringify(answer?.reply_markup)).toContain("TopicCard");
    expect(botMessagesIn(FORUM, undefined)).toEqual([]);
  }, 30_000);

  it("answers a button pressed on a card in a topic in that topic", async () => {
    const card = await botMessageIn(FORUM, INCIDENTS, (m) => m.text.includes("TopicCard"));
    const before = botMessagesIn(FORUM, INCIDENTS).length;
    stack.telegram.pressButton({
      chatId: FORUM,
      messageId: card.message_id,
      fromUserId: ALICE,
      username: "alice",
      data: buttonData(stack.telegram, card.message_id, "details", FORUM),
    });
    await expect
      .poll(() => botMessagesIn(FORUM, INCIDENTS).length, { timeout: 15_000, interval: 50 })
      .toBeGreaterThan(before);
    expect(botMessagesIn(FORUM, undefined)).toEqual([]);
  }, 30_000);

  it("reports a deleted topic like an unreachable chat, and shows its cards in the chat's General topic", async () => {
    stack.telegram.deleteTopic(FORUM, INCIDENTS);
    await fire("AfterTopicGone", { severity: "warning" });
    const card = await botMessageIn(FORUM, undefined, (m) => m.text.includes("AfterTopicGone"));
    expect(card.message.message_thread_id).toBeUndefined();

    const health = (await (await fetch(`${stack.url}/api/v1/health`)).json()) as {
      status: string;
      telegram: { unreachable: { chatId: string; reason: string; description: string }[] };
    };
    expect(health.status).toBe("degraded");
    expect(health.telegram.unreachable).toEqual([
      expect.objectContaining({
        chatId: `${FORUM}/${INCIDENTS}`,
        reason: "topic_not_found",
        description: "Bad Request: message thread not found",
      }),
    ]);
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toContain(
      `chatops_telegram_chat_unreachable{chat="${FORUM}/${INCIDENTS}",reason="topic_not_found"} 1`,
    );

    // the card deleted with its topic comes back in General on its next change
    await fire("TopicCard", { severity: "warning" });
    await botMessageIn(FORUM, undefined, (m) => m.text.includes("TopicCard") && /3 occurrences/.test(m.text));
    // the other routes' topics are untouched
    await fire("P0AfterTopicGone", { severity: "critical" });
    await botMessageIn(P0_FORUM, P0_TOPIC, (m) => m.text.includes("P0AfterTopicGone"));
  }, 90_000);
});
