// The storm phase of `npm run bench` (alone: `npm run bench -- storm`): 1,000 Alertmanager alerts
// in 20 s over 250 fingerprints in 25 services, one of them a P0, through the real webhook into a
// bot process with every role (`npm start`) and its default Telegram throttle, against a Telegram
// emulator that enforces Telegram's own limits (20 messages a minute per group, edits included;
// 30 a second overall). It reports the most sends in any 60 s to the chat, the edits, the 429s the
// emulator returned (target 0), how long from the first alert until the storm summary is in the
// chat, how long the P0's analysis took to reach its card once stored, how long until every
// incident was listed by GET /api/v1/incidents, and how long until the chat fell quiet. The storm
// starts once the bot is up, its workers included.
import type { AlertmanagerPayload } from "../handlers/sources/alertmanager.js";
import { alertmanagerFiring } from "../dev/alerts.js";
import { TEST_SECRETS } from "../dev/env.js";
import { busiestMinute, TelegramEmulator } from "../dev/emulators/telegram.js";
import type { BotProcess } from "./bot-process.js";
import { BOT_HEADERS, WEBHOOK_PATH } from "./payloads.js";
import type { Figure } from "./summary.js";

const ALERTS = 1_000;
const FINGERPRINTS = 250;
const SERVICES = 25;
/** The one P0 (severity critical), well inside the storm: its card and analysis must not wait. */
const P0_FINGERPRINT = 200;
const DURATION_MS = 20_000;
/** Webhook deliveries in the 20 s (Alertmanager groups alerts; 30 alerts each). */
const DELIVERIES = 100;
const STORM_SUMMARY_TARGET_MS = 5_000;
const P0_ANALYSIS_TARGET_MS = 10_000;
/** A supergroup: Telegram's group limits apply. */
const STORM_CHAT_ID = "-1009876543210";
/** The chat counts as quiet after this long without a send or an edit. */
const QUIET_MS = 20_000;
/** Gives up waiting for the workers' thread to poll Telegram this long after /health answered. */
const READY_LIMIT_MS = 60_000;
/** Gives up waiting for quiet this long after the first alert. */
const SETTLE_LIMIT_MS = 170_000;

export interface StormBenchResult {
  figures: Figure[];
  details: Record<string, unknown>;
}

/** Alert `index` of the storm: fingerprint index mod 250, service fingerprint mod 25, one critical, a third high. */
function stormAlert(template: AlertmanagerPayload["alerts"][number], index: number) {
  const fingerprint = index % FINGERPRINTS;
  const service = `storm-svc-${String(fingerprint % SERVICES).padStart(2, "0")}`;
  // every one pages (P0, P1 or P2): `info` would be a notice, not an incident
  const severity = fingerprint === P0_FINGERPRINT ? "critical" : fingerprint % 3 === 0 ? "high" : "warning";
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

interface IncidentDetail {
  analyses: { createdAt: string }[];
  messages: { chatId: string; messageId: number }[];
}

/** The P0's incident: its analyses and the card message(s) it has. */
async function p0Incident(botUrl: string): Promise<({ id: string } & IncidentDetail) | undefined> {
  const headers = { authorization: `Bearer ${TEST_SECRETS.apiToken}` };
  const list = (await (
    await fetch(`${botUrl}/api/v1/incidents?severity=P0&limit=5`, { headers })
  ).json()) as { incidents: { id: string }[] };
  const id = list.incidents[0]?.id;
  if (id === undefined) return undefined;
  const detail = (await (
    await fetch(`${botUrl}/api/v1/incidents/${id}`, { headers })
  ).json()) as IncidentDetail;
  return { id, ...detail };
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
  // `npm start` answers /health from its main thread while the workers' thread is still starting;
  // a storm hits a running bot, so it starts once the thread starts polling Telegram (after its
  // workers): grammY's polling begins with deleteWebhook (a getUpdates is recorded when it returns).
  const bootedAt = Date.now();
  while (!telegram.calls.some((call) => call.method === "deleteWebhook")) {
    if (Date.now() - bootedAt > READY_LIMIT_MS)
      throw new Error(`the bot's workers did not start within ${READY_LIMIT_MS / 1000} s`);
    await sleep(50);
  }
  const workersReadyMs = Date.now() - bootedAt;
  const bodies = deliveries().map((payload) => JSON.stringify(payload));

  console.log(`  workers and bot up ${workersReadyMs} ms after /health answered`);
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
  // the first storm summary the chat received
  const stormPosted = calls.find(
    (call) =>
      call.method === "sendMessage" &&
      call.status === "ok" &&
      String(call.params.chat_id) === STORM_CHAT_ID &&
      String(call.params.text).startsWith("🌩"),
  );
  const stormSummaryMs = stormPosted === undefined ? undefined : stormPosted.at - startedAt;
  // the P0's analysis: stored at analyses.created_at, in the chat with the first send or edit of
  // its card after that (a card's buttons carry its incident id)
  const p0 = await p0Incident(bot.url).catch(() => undefined);
  const analysedAt = p0?.analyses[0] === undefined ? undefined : Date.parse(p0.analyses[0].createdAt);
  const p0MessageIds = new Set(p0?.messages.map((message) => message.messageId));
  const p0Shown =
    analysedAt === undefined
      ? undefined
      : calls.find(
          (call) =>
            call.status === "ok" &&
            call.at >= analysedAt &&
            String(call.params.chat_id) === STORM_CHAT_ID &&
            ((call.method === "editMessageText" && p0MessageIds.has(Number(call.params.message_id))) ||
              (call.method === "sendMessage" && JSON.stringify(call.params).includes(p0?.id ?? "—"))),
        );
  const p0AnalysisMs =
    p0Shown === undefined || analysedAt === undefined ? undefined : p0Shown.at - analysedAt;
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
      name: "storm: first alert → storm summary in the chat",
      value: stormSummaryMs,
      unit: "ms",
      target: { comparator: "<=", value: STORM_SUMMARY_TARGET_MS },
      ...(stormSummaryMs === undefined ? { note: "no storm summary was posted" } : {}),
    },
    {
      name: "storm: P0 analysis on its card after the analysis is stored",
      value: p0AnalysisMs,
      unit: "ms",
      target: { comparator: "<=", value: P0_ANALYSIS_TARGET_MS },
      ...(p0AnalysisMs === undefined
        ? {
            note:
              p0 === undefined
                ? "no P0 incident"
                : analysedAt === undefined
                  ? "the P0 was not analysed"
                  : "its card never showed the analysis",
          }
        : {}),
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
      workersReadyMs,
      ownCards: individual,
      stormCards: stormCards.map((card) => ({ text: card.text, edits: card.editCount })),
      calls: calls.length,
    },
  };
}
