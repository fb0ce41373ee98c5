// A card's edit keeps the Snooze or Silence choices a person opened on it, against the Telegram
// emulator's Bot API and the record on a real Redis: while the card still offers that button and
// the same proposal, and also when the person opened or closed them while the edit waited for the
// chat's pace (the press's own keyboard edit goes first; the card's edit must not undo it).
import { Api } from "grammy";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { choiceKeyboard } from "../../bot/cards/choice-keyboard.js";
import { editInPlace } from "../../bot/edit-in-place.js";
import { renderTelegramCard } from "../../bot/cards/render-telegram.js";
import { telegramNotifier } from "../../bot/telegram-notifier.js";
import type { IncidentCard } from "../../domain/card.js";
import { messagesFor } from "../../domain/i18n/index.js";
import { OpenChoices, type OpenChoice } from "../../kv/open-choices.js";
import { LIFTED_TELEGRAM_LIMITS, TelegramEmulator } from "../../dev/emulators/telegram.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const GROUP = "-1003000000123";
const t = messagesFor("en");

let telegram: TelegramEmulator;
let redis: Redis;
let api: Api;
const prefix = uniquePrefix();
beforeAll(async () => {
  // the keyboards are the subject here, not the chat's pace (bot/send-throttle.ts and its test keep
  // that): each test sends a dozen messages and edits to one group within a second
  telegram = await TelegramEmulator.start(LIFTED_TELEGRAM_LIMITS);
  redis = new Redis(TEST_REDIS_URL);
  api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
});
afterAll(async () => {
  await telegram.close();
  await deleteKeys(prefix);
  redis.disconnect();
});

let count = 0;
function card(overrides: Partial<IncidentCard> = {}): IncidentCard {
  const at = new Date("2026-12-04T09:00:00Z");
  return {
    incidentId: `INC-20261204-${String(++count).padStart(4, "0")}`,
    severity: "P1",
    status: "open",
    source: "alertmanager",
    service: "checkout",
    title: "CheckoutDown",
    occurrences: 1,
    firstSeenAt: at,
    lastSeenAt: at,
    links: [],
    history: [],
    buttons: [
      { verb: "approve", actionId: 41 },
      { verb: "reject", actionId: 41 },
      { verb: "snooze" },
      { verb: "silence" },
      { verb: "take" },
    ],
    ...overrides,
  };
}

const keyboard = (messageId: number) =>
  (telegram.message(GROUP, messageId)?.reply_markup?.inline_keyboard ?? [])
    .flat()
    .map((button) => ("callback_data" in button ? button.callback_data : ""));
const ownMarkup = (shown: IncidentCard) => renderTelegramCard(shown).replyMarkup ?? { inline_keyboard: [] };
const own = (shown: IncidentCard) =>
  ownMarkup(shown)
    .inline_keyboard.flat()
    .map((button) => ("callback_data" in button ? button.callback_data : ""));
const choices = (verb: "snooze" | "silence", shown: IncidentCard) =>
  choiceKeyboard(verb, shown.incidentId, t)
    .inline_keyboard.flat()
    .map((button) => ("callback_data" in button ? button.callback_data : ""));
const proposal = (shown: IncidentCard) =>
  own(shown)
    .filter((data) => /^v1:(approve|reject):/.test(data))
    .join(" ");

/** Posts the card, then (as a press would) opens `open` on it and shows its choices. */
async function posted(shown: IncidentCard, open?: OpenChoice) {
  const store = new OpenChoices(redis, prefix);
  const result = await telegramNotifier(api).post(GROUP, shown);
  if (result.kind !== "posted") throw new Error(`not posted: ${result.kind}`);
  const messageId = result.messageId;
  if (open !== undefined) {
    await store.open(GROUP, messageId, open);
    await api.editMessageReplyMarkup(GROUP, messageId, {
      reply_markup: choiceKeyboard(open.verb, shown.incidentId, t),
    });
  }
  return { store, messageId };
}

/** The record, with `press` run once right after the edit's first read of it: a press meanwhile. */
function pressedMeanwhile(
  store: OpenChoices,
  press: () => Promise<void>,
): Pick<OpenChoices, "shown" | "close"> {
  let reads = 0;
  return {
    close: (chat, message) => store.close(chat, message),
    shown: async (chat, message) => {
      const open = await store.shown(chat, message);
      if (reads++ === 0) await press();
      return open;
    },
  };
}

/** Snooze pressed on the card: recorded, then its choices shown (as bot/features/card-buttons.ts). */
const openSnooze = (store: OpenChoices, messageId: number, shown: IncidentCard) => async () => {
  await store.open(GROUP, messageId, { verb: "snooze", proposal: proposal(shown) });
  await api.editMessageReplyMarkup(GROUP, messageId, {
    reply_markup: choiceKeyboard("snooze", shown.incidentId, t),
  });
};

/** Cancel pressed: the record closed, the card's own buttons back ("not modified" if they are). */
const cancel = (store: OpenChoices, messageId: number, shown: IncidentCard) => async () => {
  await store.close(GROUP, messageId);
  await editInPlace(() => api.editMessageReplyMarkup(GROUP, messageId, { reply_markup: ownMarkup(shown) }));
};

describe("a card's edit and the choices open on it", () => {
  it("keeps them when the card changes otherwise, and gives way to a new proposal or a resolution", async () => {
    const shown = card();
    const { store, messageId } = await posted(shown, { verb: "silence", proposal: proposal(shown) });
    const notifier = telegramNotifier(api, { choices: store });

    expect(await notifier.update(GROUP, messageId, { ...shown, occurrences: 2 })).toEqual({
      kind: "updated",
    });
    expect(telegram.message(GROUP, messageId)?.text).toContain("2 occurrences");
    expect(keyboard(messageId)).toEqual(choices("silence", shown));

    // a re-analysis proposes something else: its Approve must be seen
    const newer = card({
      incidentId: shown.incidentId,
      buttons: shown.buttons.map((button) =>
        button.actionId === undefined ? button : { ...button, actionId: 42 },
      ),
    });
    await notifier.update(GROUP, messageId, newer);
    expect(keyboard(messageId)).toEqual(own(newer));
    expect(await store.shown(GROUP, messageId)).toBeUndefined();

    // opened again on the new proposal, then the incident resolves: no Silence, nor its choices
    await store.open(GROUP, messageId, { verb: "silence", proposal: proposal(newer) });
    const resolved = card({
      incidentId: shown.incidentId,
      status: "resolved",
      buttons: [{ verb: "details" }],
    });
    await notifier.update(GROUP, messageId, resolved);
    expect(keyboard(messageId)).toEqual(own(resolved));
    expect(await store.shown(GROUP, messageId)).toBeUndefined();
  });

  it("puts back the choices a person opened while the edit was on its way", async () => {
    const shown = card();
    const { store, messageId } = await posted(shown);
    // the press lands between the edit's read and its arrival: recorded, then shown
    const notifier = telegramNotifier(api, {
      choices: pressedMeanwhile(store, openSnooze(store, messageId, shown)),
    });
    await notifier.update(GROUP, messageId, { ...shown, occurrences: 3 });
    expect(telegram.message(GROUP, messageId)?.text).toContain("3 occurrences");
    expect(keyboard(messageId)).toEqual(choices("snooze", shown));
  });

  it("takes away the choices a person cancelled while the edit was on its way", async () => {
    const shown = card();
    const { store, messageId } = await posted(shown, { verb: "snooze", proposal: proposal(shown) });
    const notifier = telegramNotifier(api, {
      choices: pressedMeanwhile(store, cancel(store, messageId, shown)),
    });
    await notifier.update(GROUP, messageId, { ...shown, occurrences: 4 });
    expect(telegram.message(GROUP, messageId)?.text).toContain("4 occurrences");
    expect(keyboard(messageId)).toEqual(own(shown));
  });

  it("reads the choices again when a press overtakes its own correction", async () => {
    const shown = card();
    const { store, messageId } = await posted(shown);
    // this notifier's own Bot API client: Cancel lands just before its correction does
    const client = new Api(telegram.token, { apiRoot: telegram.apiRoot });
    let cancelled = false;
    client.config.use(async (prev, method, payload, signal) => {
      if (method === "editMessageReplyMarkup" && !cancelled) {
        cancelled = true;
        await cancel(store, messageId, shown)();
      }
      return prev(method, payload, signal);
    });
    // the choices opened while the edit was on its way, as above
    const notifier = telegramNotifier(client, {
      choices: pressedMeanwhile(store, openSnooze(store, messageId, shown)),
    });
    await notifier.update(GROUP, messageId, { ...shown, occurrences: 5 });
    expect(cancelled).toBe(true);
    expect(await store.shown(GROUP, messageId)).toBeUndefined();
    expect(keyboard(messageId)).toEqual(own(shown));
  });
});
