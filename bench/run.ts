// `npm run bench`: figures for the performance issue (intake throughput against a real
// Alertmanager, ack latency, alert → card latency, memory, storm, cost per analysis). It prints
// what it measured, each target and the ratio to Alertmanager in the same run; it never fails on a
// timing. Everything listens on 127.0.0.1 and is torn down at the end, also after an error.
//
// Design: the bot runs as users run it, `npm start` (node dist/main.js) with every role, in a child
// of this process on its own PostgreSQL schema and Redis prefix, so the load generators here never
// share its event loop. CPU and memory are summed over every process `npm start` runs.
//  - The load phases (single alert, 100-alert payloads) go to that bot; its workers take the
//    backlog meanwhile, as in production. The ack latency at a steady rate follows right after,
//    while the workers are still busy with that backlog.
//  - An intake-only process (ROLES=http, with the http Deployment's V8 flags) takes the 100-alert
//    load once more for its memory figure.
//  - A fresh bot with every role measures alert → card latency, each alert sent once its queues
//    are idle and the chat is quiet (card-latency.ts).
// Ack latency uses an evenly paced open-loop generator (paced.ts) instead of autocannon's
// overallRate, which sends bursts; both are printed, and a bare node:http server gives the floor
// of what this machine can measure.
import { cpus, loadavg } from "node:os";
import { startAlertmanager, type AlertmanagerProcess } from "../dev/alertmanager.js";
import { TEST_SECRETS } from "../dev/env.js";
import { createTestDatabase } from "../dev/postgres.js";
import { installationId } from "../db/installation.js";
import type { QueueScope } from "../jobs/queues.js";
import { deleteKeys, uniquePrefix } from "../dev/redis.js";
import { LIFTED_TELEGRAM_LIMITS, TelegramEmulator } from "../dev/emulators/telegram.js";
import { runAiFailoverBench } from "./ai-failover-hook.js";
import { runStormBench } from "./storm.js";
import { costPerAnalysis } from "./cost.js";
import { startBareServer } from "./bare-server.js";
import { podCommand, startBotProcess, type BotProcess } from "./bot-process.js";
import { measureCardLatency, WARMUP_ALERTS } from "./card-latency.js";
import { cpuBetween, cpuSnapshot, findPidByArgument, type CpuReport } from "./cpu.js";
import { saturate, steadyRate, type LoadResult, type Target } from "./load.js";
import { pacedLoad, type PacedResult } from "./paced.js";
import { openQueueProbe } from "./queue-probe.js";
import {
  ALERTMANAGER_ALERTS_PATH,
  alertmanagerV2Body,
  BOT_HEADERS,
  distinctWebhookBodyTemplate,
  JSON_HEADERS,
  webhookBody,
  WEBHOOK_PATH,
} from "./payloads.js";
import { format, percentile, printTable, writeSummary, type Figure } from "./summary.js";

const LOAD_SECONDS = 10;
const WARMUP_SECONDS = 2;
/** Enough to keep a single-threaded server busy at every moment. */
const CONNECTIONS = 50;
const BATCH_SIZE = 100;
const ACK_RATE = 500;
const CALIBRATION_SECONDS = 5;
const CARD_MAX_COUNT = 30;
/** Each alert waits for the previous incident to settle (~3 s), so the phase is bounded in time. */
const CARD_PHASE_MS = 75_000;
const CARD_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 30_000;
/** autocannon's bursty overallRate, shown for reference only. */
const BURSTY_SECONDS = 5;
const RSS_TARGET_MB = 200;
const INTAKE_RSS_TARGET_MB = 120;
const SINGLE_RATIO_TARGET = 1;
const BATCH_RATIO_TARGET = 2.5;
/** `npm run bench -- storm` runs the storm phase alone. */
const ONLY_STORM = process.argv.slice(2).includes("storm");
/** `npm run bench -- no-storm` leaves the storm phase out. */
const NO_STORM = process.argv.slice(2).includes("no-storm");
/** The whole bench, after which it cleans up and gives up (the storm phase takes up to 3 min). */
const WATCHDOG_MS = (ONLY_STORM ? 4 : 8) * 60_000;
/**
 * Cards of the latency phase go to a private chat. grammY's throttler (like Telegram) allows a
 * group 20 messages a minute, and every incident takes two or three (the card, then edits), so
 * in a group the phase would soon measure Telegram's budget, not the bot. A private chat is paced
 * at 1 message/s only, and the phase waits that out between alerts. A group below its budget sees
 * the same latency.
 */
const CARD_CHAT_ID = "1001";
/** The chat of the load phases' cards (a private chat too: its budget is the bot's, not the load's). */
const LOAD_CHAT_ID = "1002";

/** Teardown steps, run last-registered first, each one even when another failed. */
class Cleanup {
  private readonly steps: { label: string; run: () => Promise<unknown> }[] = [];
  private done: Promise<void> | undefined;

  add(label: string, run: () => Promise<unknown>): void {
    this.steps.push({ label, run });
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) {
        await step
          .run()
          .catch((error: unknown) => console.error(`cleanup: ${step.label}: ${(error as Error).message}`));
      }
    })();
    return this.done;
  }
}

const cleanup = new Cleanup();
const figures: Figure[] = [];
const details: Record<string, unknown> = {};

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  });
}
// `npm run bench | head` closes stdout early; keep going so the cleanup still runs.
process.stdout.on("error", () => undefined);
const watchdog = setTimeout(() => {
  console.error(`bench still running after ${WATCHDOG_MS / 1000} s: cleaning up and giving up`);
  void cleanup.run().finally(() => process.exit(2));
}, WATCHDOG_MS);
watchdog.unref();

/** A bot process on its own fresh schema and Redis prefix, all three removed by the cleanup. */
async function startBot(
  label: string,
  env: Record<string, string>,
  nodeFlags?: readonly string[],
): Promise<BotProcess & { scope: QueueScope }> {
  const db = await createTestDatabase({ migrate: false });
  cleanup.add(`drop schema ${db.schema}`, () => db.drop());
  const prefix = uniquePrefix();
  cleanup.add(`delete Redis keys ${prefix}*`, () => deleteKeys(prefix));
  const bot = await startBotProcess({
    label,
    env: { DATABASE_URL: db.url, REDIS_PREFIX: prefix, ...env },
    ...(nodeFlags === undefined ? {} : { nodeFlags }),
  });
  cleanup.add(`stop ${label}`, () => bot.stop());
  // the bot migrated its database on start: its installation id places the queues (jobs/queues.ts)
  return { ...bot, scope: { prefix, installation: await installationId(db.pool) } };
}

const summarize = (result: LoadResult, unit: string, perRequest = 1): string =>
  `${format(result.okPerSecond * perRequest, unit)} (${result.ok} × 2xx, ${result.non2xx} non-2xx, ` +
  `${result.errors} errors; latency p50 ${format(result.latencyMs.p50, "ms")}, p99 ${format(result.latencyMs.p99, "ms")})`;

const summarizePaced = (result: PacedResult): string =>
  `${format(result.achievedRate, "req/s")} sent, ${result.ok} × 2xx, ${result.non2xx} non-2xx, ${result.errors} errors; ` +
  `latency p50 ${format(result.latencyMs.p50, "ms")}, p99 ${format(result.latencyMs.p99, "ms")}, ` +
  `max ${format(result.latencyMs.max, "ms")}; sender lag p99 ${format(result.senderLagMs.p99, "ms")}`;

/** "bot 99 % of a core, bench 14 %, machine 95 % of 2 cores" */
function describeCpu(report: CpuReport, names: ReadonlyMap<number, string>): string {
  const parts = [...names].map(([pid, name]) => `${name} ${format(report.processCorePercent.get(pid), "%")}`);
  parts.push(`bench (load generator) ${format(report.benchCorePercent, "%")}`);
  return `CPU, % of one core: ${parts.join(", ")}; machine ${format(report.machinePercent, "%")} of ${cpus().length} cores busy`;
}

/** Runs `work` while accounting the CPU of the named processes. */
async function withCpu<T>(
  names: ReadonlyMap<number, string>,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuReport }> {
  const before = await cpuSnapshot([...names.keys()]);
  const result = await work();
  const cpu = cpuBetween(before, await cpuSnapshot([...names.keys()]));
  return { result, cpu };
}

/** Warm the server (JIT, connection pools) first, then measure. */
async function measureThroughput(
  target: Target,
  processes: () => Promise<ReadonlyMap<number, string>>,
): Promise<{ result: LoadResult; cpu: CpuReport; names: ReadonlyMap<number, string> }> {
  await saturate(target, { connections: CONNECTIONS, durationS: WARMUP_SECONDS });
  const names = await processes();
  const measured = await withCpu(names, () =>
    saturate(target, { connections: CONNECTIONS, durationS: LOAD_SECONDS }),
  );
  return { ...measured, names };
}

interface Contender {
  target: Target;
  /** The server's processes, named, for CPU accounting (read when a phase starts). */
  processes: () => Promise<ReadonlyMap<number, string>>;
}

/** The bot's process tree named for the CPU lines: the `npm start` process and its children. */
async function botProcessNames(bot: BotProcess): Promise<ReadonlyMap<number, string>> {
  const pids = await bot.pids();
  return new Map(pids.map((pid, index) => [pid, index === 0 ? "bot" : `bot child ${pid}`]));
}

/** Bot vs Alertmanager on the same alerts; pushes the three figures. */
async function compareThroughput(
  name: string,
  bot: Contender,
  alertmanager: Contender | undefined,
  alertsPerRequest: number,
  targetRatio: number,
): Promise<void> {
  const unit = alertsPerRequest === 1 ? "req/s" : "alerts/s";
  const botRun = await measureThroughput(bot.target, bot.processes);
  console.log(`  bot:          ${summarize(botRun.result, unit, alertsPerRequest)}`);
  console.log(`                ${describeCpu(botRun.cpu, botRun.names)}`);
  details[`${name} (bot)`] = { ...botRun.result, cpu: cpuDetails(botRun.cpu, botRun.names) };
  const botRate = botRun.result.okPerSecond * alertsPerRequest;
  figures.push({ name: `${name}: bot`, value: botRate, unit });
  if (alertmanager === undefined) return;
  const amRun = await measureThroughput(alertmanager.target, alertmanager.processes);
  console.log(`  alertmanager: ${summarize(amRun.result, unit, alertsPerRequest)}`);
  console.log(`                ${describeCpu(amRun.cpu, amRun.names)}`);
  details[`${name} (alertmanager)`] = { ...amRun.result, cpu: cpuDetails(amRun.cpu, amRun.names) };
  const amRate = amRun.result.okPerSecond * alertsPerRequest;
  const ratio = amRate > 0 ? botRate / amRate : undefined;
  console.log(`  ratio bot/alertmanager: ${format(ratio, "×")}`);
  figures.push(
    { name: `${name}: Alertmanager v2`, value: amRate, unit },
    {
      name: `${name}: ratio bot/Alertmanager`,
      value: ratio,
      unit: "×",
      target: { comparator: ">=", value: targetRatio },
    },
  );
}

function cpuDetails(
  report: CpuReport,
  names: ReadonlyMap<number, string>,
): Record<string, number | undefined> {
  return {
    ...Object.fromEntries(
      [...names].map(([pid, name]) => [`${name}CorePercent`, report.processCorePercent.get(pid)]),
    ),
    benchCorePercent: report.benchCorePercent,
    machinePercent: report.machinePercent,
  };
}

async function startComparisonAlertmanager(): Promise<
  { process: AlertmanagerProcess; pid: number | undefined } | undefined
> {
  try {
    const alertmanager = await startAlertmanager();
    cleanup.add("stop Alertmanager", () => alertmanager.stop());
    const pid = await findPidByArgument(`--web.listen-address=${new URL(alertmanager.url).host}`);
    return { process: alertmanager, pid };
  } catch (error) {
    console.log(`Alertmanager did not start, comparison skipped: ${(error as Error).message}`);
    return undefined;
  }
}

async function ackLatency(intake: BotProcess): Promise<void> {
  console.log(
    `\n[4] ack latency at a steady ${ACK_RATE} req/s (open loop, evenly paced), distinct fingerprints,`,
  );
  console.log("  right after the load phases, the workers still busy with their backlog");
  const bare = await startBareServer();
  cleanup.add("stop bare server", () => bare.stop());
  const ackBody = distinctWebhookBodyTemplate();
  const calibration = await pacedLoad(
    { url: `${bare.url}${WEBHOOK_PATH}`, headers: BOT_HEADERS, body: ackBody, idReplacement: true },
    { rate: ACK_RATE, durationS: CALIBRATION_SECONDS },
  );
  await bare.stop();
  console.log(`  floor, bare node:http server: ${summarizePaced(calibration)}`);
  details["ack latency floor (bare server)"] = calibration;

  const target: Target = {
    url: `${intake.url}${WEBHOOK_PATH}`,
    headers: BOT_HEADERS,
    body: ackBody,
    idReplacement: true,
  };
  await pacedLoad(target, { rate: ACK_RATE, durationS: WARMUP_SECONDS });
  const botPid = await botProcessNames(intake);
  const { result: ack, cpu } = await withCpu(botPid, () =>
    pacedLoad(target, { rate: ACK_RATE, durationS: LOAD_SECONDS }),
  );
  console.log(`  bot:                          ${summarizePaced(ack)}`);
  console.log(`                                ${describeCpu(cpu, botPid)}`);
  details["ack latency"] = { ...ack, cpu: cpuDetails(cpu, botPid) };

  // For reference only: autocannon's overallRate sends each connection's per-second quota in a
  // burst (see paced.ts), so this is the latency of 50-request bursts, not of a steady rate.
  const bursty = await steadyRate(target, {
    connections: CONNECTIONS,
    durationS: BURSTY_SECONDS,
    rate: ACK_RATE,
  });
  console.log(`  (autocannon overallRate, bursty, reference only: ${summarize(bursty, "req/s")})`);
  details["ack latency, autocannon overallRate (bursty)"] = bursty;

  const failures = ack.non2xx + ack.errors;
  figures.push(
    {
      name: `ack latency floor p99 (bare server) @ ${ACK_RATE}/s`,
      value: calibration.latencyMs.p99,
      unit: "ms",
    },
    { name: `ack latency p50 @ ${ACK_RATE} req/s`, value: ack.latencyMs.p50, unit: "ms" },
    {
      name: `ack latency p99 @ ${ACK_RATE} req/s`,
      value: ack.latencyMs.p99,
      unit: "ms",
      target: { comparator: "<=", value: 20 },
      ...(failures > 0 ? { note: `${ack.non2xx} non-2xx and ${ack.errors} errors` } : {}),
    },
  );
}

async function cardLatency(telegram: TelegramEmulator): Promise<void> {
  console.log(
    `\n[5] alert → card latency: a fresh bot with every role, cards to private chat ${CARD_CHAT_ID}`,
  );
  console.log(
    `  (one alert at a time, each once the previous incident's card and edits are done; ` +
      `${WARMUP_ALERTS} unmeasured alert first, as the other phases warm up)`,
  );
  const full = await startBot("full bot (all roles)", {
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_CHAT_ID: CARD_CHAT_ID,
    // one alert every few seconds for a minute and more is a storm; this phase measures own cards
    STORM_THRESHOLD: "10000",
  });
  const queues = openQueueProbe(full.scope);
  cleanup.add("close queue probe", () => queues.close());
  // a quiet system has its workers up: the first card must not wait for their thread to start
  if (!(await queues.waitForWorkers(DRAIN_TIMEOUT_MS)))
    console.log(`  no worker on the queues after ${DRAIN_TIMEOUT_MS / 1000} s; measuring anyway`);
  // ready means every role up, the workers' thread included
  const startRss = await full.rssMb();
  const left = await queues.waitForIdle(DRAIN_TIMEOUT_MS);
  console.log(
    left === 0
      ? "  queues idle"
      : `  queues still hold ${left} jobs after ${DRAIN_TIMEOUT_MS / 1000} s; measuring anyway`,
  );
  const cards = await measureCardLatency({
    botUrl: full.url,
    telegram,
    queues,
    chatId: CARD_CHAT_ID,
    maxCount: CARD_MAX_COUNT,
    maxDurationMs: CARD_PHASE_MS,
    timeoutMs: CARD_TIMEOUT_MS,
  });
  const p50 = percentile(cards.samplesMs, 50);
  const p99 = percentile(cards.samplesMs, 99);
  const calls = percentile(cards.callsPerIncident, 50);
  console.log(
    `  ${cards.samplesMs.length} cards: p50 ${format(p50, "ms")}, p99 ${format(p99, "ms")}, ` +
      `max ${format(Math.max(...cards.samplesMs), "ms")}; ${cards.missing.length} missing; ` +
      `${format(calls)} Bot API calls per incident (median); ${cards.unsettled} alerts sent before the chat was quiet`,
  );
  details["alert → card latency"] = cards;
  figures.push(
    { name: "alert → card p50", value: p50, unit: "ms" },
    {
      name: `alert → card p99 (${cards.samplesMs.length} samples)`,
      // A missing card is slower than any target.
      value: cards.missing.length > 0 ? Number.POSITIVE_INFINITY : p99,
      unit: "ms",
      target: { comparator: "<=", value: 100 },
      ...(cards.missing.length > 0
        ? { note: `${cards.missing.length} cards missing: ${cards.missing.join(", ")}` }
        : {}),
    },
    { name: "Telegram calls per incident (post + edits)", value: calls, unit: "" },
  );
  await reportRss(full, startRss, "every role (after cards)", RSS_TARGET_MB);
  await full.stop();
}

async function reportRss(
  bot: BotProcess,
  startRss: number | undefined,
  name: string,
  targetMb: number,
): Promise<void> {
  const peak = await bot.peakRssMb();
  const processes = (await bot.pids()).length;
  console.log(
    `\n[6] memory, ${bot.label} (${processes} process${processes === 1 ? "" : "es"}, summed): RSS ${format(startRss, "MB")} once ready, ` +
      `peak ${format(peak, "MB")} (` +
      [...bot.peaksByProcess()]
        .map(([pid, mb]) => `${pid === bot.pid ? "npm start" : `child ${pid}`} ${format(mb, "MB")}`)
        .join(", ") +
      ")",
  );
  figures.push(
    { name: `RSS once ready, summed: ${name.replace(/ \(.*/, "")}`, value: startRss, unit: "MB" },
    {
      name: `peak RSS, summed: ${name}`,
      value: peak,
      unit: "MB",
      target: { comparator: "<=", value: targetMb },
    },
  );
}

async function main(): Promise<void> {
  const [load1] = loadavg();
  console.log(
    `chatops bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), node ${process.version}`,
  );
  console.log(`load average before start: ${format(load1)} (anything else running skews every figure)`);
  console.log("The load generators run in this process, the bot in a child process;");
  console.log("on a small machine they still share the cores, with Redis and Alertmanager.\n");

  const telegram = new TelegramEmulator({
    token: TEST_SECRETS.telegramToken,
    // Flood limits high: the bench measures the bot, not the emulator's Telegram budgets.
    ...LIFTED_TELEGRAM_LIMITS,
  });
  await telegram.start();
  cleanup.add("close Telegram emulator", () => telegram.close());
  const alertmanager = await startComparisonAlertmanager();

  console.log("Load phases: `npm start` with every role (HTTP, bot, workers), as users run it. Its 202");
  console.log("means queued in Redis; its workers take the backlog meanwhile and post to the emulator.");
  const bot = await startBot("bot (npm start, every role)", {
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_CHAT_ID: LOAD_CHAT_ID,
  });
  // `npm start` answers /health from its main thread while the workers' thread is still starting;
  // the load phases measure a running bot, not its start-up competing with the first round
  const loadQueues = openQueueProbe(bot.scope);
  const workersFrom = Date.now();
  const workersUp = await loadQueues.waitForWorkers(DRAIN_TIMEOUT_MS).finally(() => loadQueues.close());
  console.log(
    workersUp
      ? `workers up ${Date.now() - workersFrom} ms after /health answered`
      : `no worker on the queues after ${DRAIN_TIMEOUT_MS / 1000} s; measuring anyway`,
  );
  const botStartRss = await bot.rssMb();
  const botNames = () => botProcessNames(bot);
  const amNames = async () =>
    new Map<number, string>(alertmanager?.pid === undefined ? [] : [[alertmanager.pid, "alertmanager"]]);
  /** The same alerts for both servers: the webhook body for the bot, the API v2 body for Alertmanager. */
  const contenders = (
    botUrl: string,
    count?: number,
  ): { bot: Contender; alertmanager: Contender | undefined } => {
    const payload = webhookBody(count);
    return {
      bot: {
        target: { url: `${botUrl}${WEBHOOK_PATH}`, headers: BOT_HEADERS, body: JSON.stringify(payload) },
        processes: botNames,
      },
      alertmanager:
        alertmanager === undefined
          ? undefined
          : {
              target: {
                url: `${alertmanager.process.url}${ALERTMANAGER_ALERTS_PATH}`,
                headers: JSON_HEADERS,
                body: JSON.stringify(alertmanagerV2Body(payload)),
              },
              processes: amNames,
            },
    };
  };

  console.log(`\n[2] single-alert payload, ${CONNECTIONS} connections, ${LOAD_SECONDS} s each`);
  const single = contenders(bot.url);
  await compareThroughput("single alert", single.bot, single.alertmanager, 1, SINGLE_RATIO_TARGET);

  console.log(`\n[3] ${BATCH_SIZE}-alert payload, ${CONNECTIONS} connections, ${LOAD_SECONDS} s each`);
  const batch = contenders(bot.url, BATCH_SIZE);
  await compareThroughput(
    `${BATCH_SIZE}-alert payload`,
    batch.bot,
    batch.alertmanager,
    BATCH_SIZE,
    BATCH_RATIO_TARGET,
  );

  await ackLatency(bot);
  await reportRss(bot, botStartRss, "every role (after load)", RSS_TARGET_MB);
  await bot.stop();

  // as the http Deployment runs it (its V8 flags: deploy/k8s/base/deployment-http.yaml)
  const pod = podCommand("http");
  console.log(
    `\n[3b] intake only (ROLES=http, as the http pod runs it: node ${pod.nodeFlags.join(" ")}, ` +
      `NODE_OPTIONS=${pod.env.NODE_OPTIONS ?? ""}): ${BATCH_SIZE}-alert payloads for its memory`,
  );
  const intake = await startBot(
    "intake only (ROLES=http)",
    {
      ROLES: "http",
      // unused by the http role, but nothing may reach the real Bot API
      TELEGRAM_API_ROOT: telegram.apiRoot,
      ...pod.env,
    },
    pod.nodeFlags,
  );
  const intakeStartRss = await intake.rssMb();
  const intakeLoad = await measureThroughput(contenders(intake.url, BATCH_SIZE).bot.target, () =>
    botProcessNames(intake),
  );
  console.log(`  intake only:  ${summarize(intakeLoad.result, "alerts/s", BATCH_SIZE)}`);
  await reportRss(intake, intakeStartRss, "intake only (after 100-alert load)", INTAKE_RSS_TARGET_MB);
  await intake.stop();

  await cardLatency(telegram);

  console.log("\n[7] cost per analysis (labelled scenarios, estimated tokens)");
  const cost = await costPerAnalysis().catch((error: unknown) => {
    console.log(`  failed: ${(error as Error).message}`);
    return { figures: [] as Figure[], details: {} };
  });
  figures.push(...cost.figures);
  details["cost per analysis"] = cost.details;

  console.log("\n[7b] AI failover");
  const ai = await runAiFailoverBench().catch((error: unknown) => ({
    figures: [] as Figure[],
    raw: undefined,
    note: `benchAiFailover() failed: ${(error as Error).message}`,
  }));
  console.log(`  ${ai.note}`);
  figures.push(...ai.figures);
  details["ai failover"] = { note: ai.note, result: ai.raw };
}

async function storm(): Promise<void> {
  console.log("\n[storm] alert storm: Telegram's real limits, the bot's default throttle");
  const result = await runStormBench(startBot, (label, run) => cleanup.add(label, run));
  figures.push(...result.figures);
  details["alert storm"] = result.details;
}

try {
  if (!ONLY_STORM) await main();
  if (!NO_STORM) await storm();
} catch (error) {
  console.error(`\nbench failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup.run();
  clearTimeout(watchdog);
  console.log("\n[8] Summary");
  printTable(figures);
  const path = await writeSummary(figures, details);
  console.log(`\nwritten to ${path}`);
}
