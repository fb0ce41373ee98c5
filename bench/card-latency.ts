// Alert → card latency on a quiet bot: one new alert at a time, timed from just before the webhook
// request to the moment the Telegram emulator receives the sendMessage call of its card. Both
// clocks are this process's Date.now(), because the emulator runs here.
//
// Warmed first, like the throughput phases: the first alert after start-up pays one-time costs
// (database connections opened, code compiled, the HTTP connection to the Bot API), and with 30
// samples the p99 is the slowest one, so it would be that start-up, not the card path. WARMUP_ALERTS
// alerts go through the whole path, unmeasured, before the measured ones.
//
// "Quiet" is checked, not assumed: each incident is followed by more Bot API calls (the card is
// edited when the analysis starts and again when it ends), and the bot paces a chat at one call a
// second, so an alert sent while those edits are queued would wait behind them. Before each alert
// the bench waits until every queue is idle and the chat has had no call for a pacing interval.
import type { CallRecord, TelegramEmulator } from "../dev/emulators/telegram.js";
import { BOT_HEADERS, uniqueAlert, WEBHOOK_PATH } from "./payloads.js";
import type { QueueProbe } from "./queue-probe.js";

/** grammY's throttler keeps one call per second per chat; a little more, so it never holds one back. */
const CHAT_PACING_MS = 1_050;
const SETTLE_TIMEOUT_MS = 15_000;
/** Alerts sent and carded before measuring (see above). */
export const WARMUP_ALERTS = 1;

export interface CardLatencyOptions {
  botUrl: string;
  telegram: TelegramEmulator;
  queues: QueueProbe;
  chatId: string;
  maxCount: number;
  /** The phase stops sending new alerts after this long. */
  maxDurationMs: number;
  /** How long one card may take before it counts as missing. */
  timeoutMs: number;
}

export interface CardLatencyResult {
  samplesMs: number[];
  /** Alerts whose card never arrived within timeoutMs (or whose webhook was refused). */
  missing: string[];
  /** Bot API calls (post and edits) that showed each incident, once it settled. */
  callsPerIncident: number[];
  /** Alerts sent before the system was quiet again (settling timed out). */
  unsettled: number;
}

export async function measureCardLatency(options: CardLatencyOptions): Promise<CardLatencyResult> {
  const result: CardLatencyResult = { samplesMs: [], missing: [], callsPerIncident: [], unsettled: 0 };
  const run = Date.now().toString(36);
  const phaseEnd = Date.now() + options.maxDurationMs;
  for (let warmup = 0; warmup < WARMUP_ALERTS; warmup++) {
    await settle(options);
    const alertname = `BenchCard${run}Warmup${warmup}`;
    const response = await postAlert(options, alertname);
    if (response instanceof Error || response.status !== 202) continue;
    await response.body?.cancel();
    await options.telegram
      .waitFor((call) => call.method === "sendMessage" && mentionsName(call, alertname), options.timeoutMs)
      .catch(() => undefined);
  }
  for (let index = 0; index < options.maxCount && Date.now() < phaseEnd; index++) {
    if (!(await settle(options))) result.unsettled++;
    const alertname = `BenchCard${run}N${index}`;
    const mentions = (call: CallRecord) => mentionsName(call, alertname);
    const sentAt = Date.now();
    const response = await postAlert(options, alertname);
    if (response instanceof Error || response.status !== 202) {
      result.missing.push(
        `${alertname} (${response instanceof Error ? response.message : `HTTP ${response.status}`})`,
      );
      continue;
    }
    await response.body?.cancel();
    const card = await options.telegram
      .waitFor((call) => call.method === "sendMessage" && mentions(call), options.timeoutMs)
      .catch(() => undefined);
    if (card === undefined) {
      result.missing.push(alertname);
      continue;
    }
    result.samplesMs.push(card.at - sentAt);
    // Counted once the incident settled, at the start of the next round or below.
    if (await settle(options)) result.callsPerIncident.push(options.telegram.calls.filter(mentions).length);
  }
  return result;
}

const mentionsName = (call: CallRecord, alertname: string): boolean =>
  typeof call.params.text === "string" && call.params.text.includes(alertname);

function postAlert(options: CardLatencyOptions, alertname: string): Promise<Response | Error> {
  return fetch(`${options.botUrl}${WEBHOOK_PATH}`, {
    method: "POST",
    headers: BOT_HEADERS,
    body: JSON.stringify(uniqueAlert(alertname)),
  }).catch((error: unknown) => error as Error);
}

/** Waits until no job is pending and the chat has been silent for a pacing interval. */
async function settle(options: CardLatencyOptions): Promise<boolean> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const lastCallAt = () =>
    Math.max(
      0,
      ...options.telegram.calls
        .filter((call) => String(call.params.chat_id) === options.chatId)
        .map((call) => call.at),
    );
  while (Date.now() < deadline) {
    const silentFor = Date.now() - lastCallAt();
    if (silentFor >= CHAT_PACING_MS && (await options.queues.pending()) === 0) return true;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(20, Math.min(200, CHAT_PACING_MS - silentFor))),
    );
  }
  return false;
}
