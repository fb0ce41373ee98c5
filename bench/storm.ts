// The storm phase of `npm run bench` (alone: `npm run bench -- storm`): 3,000 Alertmanager alerts
// in 20 s over 150 fingerprints in 15 services, through the real webhook into a bot process with
// every role and its default Telegram throttle, against a Telegram emulator that enforces
// Telegram's own limits (20 messages a minute per group, edits included; 30 a second overall).
// It reports the most sends in any 60 s to the chat, the edits, the 429s the emulator returned
// (target 0), how long until every incident was listed by GET /api/v1/incidents, and how long
// until the chat fell quiet.
import type { AlertmanagerPayload } from "../handlers/sources/alertmanager.js";
import { alertmanagerFiring } from "../dev/alerts.js";
import { TEST_SECRETS } from "../dev/env.js";
import { busiestMinute, TelegramEmulator } from "../dev/emulators/telegram.js";
import type { BotProcess } from "./bot-process.js";
import { BOT_HEADERS, WEBHOOK_PATH } from "./payloads.js";
import type { Figure } from "./summary.js";

const ALERTS = 3_000;
const FINGERPRINTS = 150;
const SERVICES = 15;
const DURATION_MS = 20_000;
/** Webhook deliveries in the 20 s (Alertmanager groups alerts; 30 alerts each). */
const DELIVERIES = 100;
/** A supergroup: Telegram's group limits apply. */
const STORM_CHAT_ID = "-1009876543210";
/** The chat counts as quiet after this long without a send or an edit. */
const QUIET_MS = 20_000;
/** Gives up waiting for quiet this long after the first alert. */
const SETTLE_LIMIT_MS = 170_000;

export interface StormBenchResult {
  figures: Figure[];
  details: Record<string, unknown>;
}

/** Alert `index` of the storm: fingerprint index mod 150, service fingerprint mod 15, 1 in 20 critical. */
function stormAlert(template: AlertmanagerPayload["alerts"][number], index: number) {
  const fingerprint = index % FINGERPRINTS;
  const service = `storm-svc-${String(fingerprint % SERVICES).padStart(2, "0")}`;
  const severity = fingerprint % 20 === 0 ? "critical" : fingerprint % 3 === 0 ? "warning" : "info";
  return {
    ...template,
    fingerprint: `storm-${fingerprint}`,
    labels: {
      alertname: `StormAlert${fingerprint % 10}`,
      severity,
      namespace: "awoooi-prod",
      service,
      pod: `${service}-${fingerprint}`,
    },
    annotations: { summary: `${service} misbehaving (${fingerprint})` },
  };
}

function deliveries(): AlertmanagerPayload[] {
  const base = alertmanagerFiring();
  const [template] = base.alerts;
  if (template === undefined) throw new Error("fixture has no alert");
  const perDelivery = ALERTS / DELIVERIES;
  return Array.from({ length: DELIVERIES }, (_, delivery) => ({
    ...base,
    alerts: Array.from({ length: perDelivery }, (_, offset) =>
      stormAlert(template, delivery * perDelivery + offset),
    ),
  }));
}

async function listedIncidents(botUrl: string): Promise<number> {
  let count = 0;
  let before: string | null = null;
  do {
    const query: string = before === null ? "" : `&before=${before}`;
    const response = await fetch(`${botUrl}/api/v1/incidents?limit=500${query}`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.apiToken}` },
    });
    const body = (await response.json()) as { incidents: unknown[]; next: string | null };
    count += body.incidents.length;
    before = body.next;
  } while (before !== null);
  return count;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runStormBench(
  startBot: (label: string, env: Record<string, string>) => Promise<BotProcess>,
  onCleanup: (label: string, run: () => Promise<unknown>) => void,
): Promise<StormBenchResult> {
  // Telegram's real limits (the emulator's defaults), and the bot's default throttle.
  const telegram = new TelegramEmulator({ token: TEST_SECRETS.telegramToken });
  await telegram.start();
  onCleanup("close storm Telegram emulator", () => telegram.close());
  const bot = await startBot("storm bot (all roles, default throttle)", {
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_CHAT_ID: STORM_CHAT_ID,
  });
  const bodies = deliveries().map((payload) => JSON.stringify(payload));

  console.log(
    `  sending ${ALERTS} alerts (${FINGERPRINTS} fingerprints, ${SERVICES} services) in ${DURATION_MS / 1000} s ` +
      `as ${DELIVERIES} webhook deliveries to chat ${STORM_CHAT_ID}`,
  );
  const startedAt = Date.now();
  let refused = 0;
  const sends = bodies.map(async (body, index) => {
    await sleep(startedAt + (index * DURATION_MS) / DELIVERIES - Date.now());
    const response = await fetch(`${bot.url}${WEBHOOK_PATH}`, { method: "POST", headers: BOT_HEADERS, body });
    await response.body?.cancel();
    if (response.status !== 202) refused++;
  });

  // Every incident listed by the API.
  let reachableMs: number | undefined;
  const reachable = (async () => {
    while (Date.now() - startedAt < SETTLE_LIMIT_MS) {
      if ((await listedIncidents(bot.url).catch(() => 0)) >= FINGERPRINTS) {
        reachableMs = Date.now() - startedAt;
        return;
      }
      await sleep(200);
    }
  })();
  await Promise.all(sends);
  const sentMs = Date.now() - startedAt;
  await reachable;

  // Quiet: no send or edit for QUIET_MS once the storm card is final.
  const chatCalls = () =>
    telegram.calls.filter(
      (call) =>
        String(call.params.chat_id) === STORM_CHAT_ID &&
        (call.method === "sendMessage" || call.method === "editMessageText"),
    );
  const stormOver = () =>
    telegram.messages(STORM_CHAT_ID).some((message) => message.text.startsWith("✅ Storm over"));
  let quietMs: number | undefined;
  while (Date.now() - startedAt < SETTLE_LIMIT_MS) {
    const last = Math.max(startedAt, ...chatCalls().map((call) => call.at));
    if (stormOver() && Date.now() - last >= QUIET_MS) {
      quietMs = last - startedAt;
      break;
    }
    await sleep(250);
  }

  const calls = telegram.calls;
  const messages = telegram.messages(STORM_CHAT_ID);
  const stormCards = messages.filter((message) => /^(🌩 Alert storm|✅ Storm over)/.test(message.text));
  const figures: Figure[] = [
    {
      name: "storm: most sendMessage in any 60 s (one chat)",
      value: busiestMinute(calls, STORM_CHAT_ID, ["sendMessage"]),
      unit: "",
      target: { comparator: "<=", value: 20 },
    },
    {
      name: "storm: most sends + edits in any 60 s (one chat)",
      value: busiestMinute(calls, STORM_CHAT_ID, ["sendMessage", "editMessageText"]),
      unit: "",
      target: { comparator: "<=", value: 20 },
    },
    {
      name: "storm: editMessageText calls",
      value: calls.filter((call) => call.method === "editMessageText" && call.status === "ok").length,
      unit: "",
    },
    {
      name: "storm: 429s returned by Telegram",
      value: calls.filter((call) => call.status === 429).length,
      unit: "",
      target: { comparator: "<=", value: 0 },
    },
    {
      name: `storm: first alert → all ${FINGERPRINTS} incidents listed by the API`,
      value: reachableMs,
      unit: "ms",
      ...(reachableMs === undefined ? { note: "not all incidents were listed in time" } : {}),
    },
    {
      name: "storm: first alert → chat quiet (last send or edit)",
      value: quietMs,
      unit: "ms",
      ...(quietMs === undefined
        ? { note: `still sending, or no final storm card, ${SETTLE_LIMIT_MS / 1000} s after the first alert` }
        : {}),
    },
  ];
  const individual = messages.length - stormCards.length;
  console.log(
    `  ${ALERTS - refused * (ALERTS / DELIVERIES)} alerts accepted in ${sentMs} ms (${refused} deliveries refused); ` +
      `${individual} own cards, ${stormCards.length} storm card(s)`,
  );
  for (const figure of figures) console.log(`  ${figure.name}: ${figure.value ?? "n/a"}${figure.unit}`);
  for (const card of stormCards)
    console.log(`  storm card: ${card.text.split("\n")[0] ?? ""} (${card.editCount} edits)`);
  await bot.stop();
  return {
    figures,
    details: {
      alerts: ALERTS,
      fingerprints: FINGERPRINTS,
      services: SERVICES,
      durationMs: DURATION_MS,
      refusedDeliveries: refused,
      ownCards: individual,
      stormCards: stormCards.map((card) => ({ text: card.text, edits: card.editCount })),
      calls: calls.length,
    },
  };
}
