// Use case: what is wrong with Telegram right now, from every process's report
// (kv/telegram-health.ts). Four problems, each one line an operator can act on: the token is
// refused, polling is in conflict with another poller, nobody polls, calls fail. A report counts
// while its process keeps writing; a bot process that stopped writing without saying goodbye
// (killed, frozen, its Redis link lost) is a problem of its own, so a dead poller never leaves
// health green. Pure rules over the reports, plus one read that also forgets the reports of
// processes that died once another process polls.
import type { TelegramHealthStore, TelegramProcessReport } from "../kv/telegram-health.js";

export type TelegramProblemKind = "token_rejected" | "polling_conflict" | "polling_stopped" | "calls_failing";

export interface TelegramProblem {
  kind: TelegramProblemKind;
  /** Since when (ISO time). */
  since: string;
  /** One line saying what is wrong and what to do. */
  warning: string;
}

/** A report older than this many of its process's write intervals is stale: the process stopped writing. */
export const STALE_AFTER_INTERVALS = 3;
/** Consecutive unanswered calls before "calls failing" is said: one lost request is not an outage. */
export const FAILURES_BEFORE_REPORTING = 2;

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

function isLive(report: TelegramProcessReport, now: number): boolean {
  return now - report.at <= STALE_AFTER_INTERVALS * report.everyMs + 1_000;
}

/** The problems the reports show at `now`, and the processes whose reports may be forgotten. */
export function telegramProblems(
  reports: readonly TelegramProcessReport[],
  now: number,
): { problems: TelegramProblem[]; forget: string[] } {
  const live = reports.filter((report) => isLive(report, now));
  const stale = reports.filter((report) => !isLive(report, now));
  const problems: TelegramProblem[] = [];

  const rejected = live.flatMap((report) =>
    report.tokenRejected === undefined ? [] : [report.tokenRejected],
  );
  const firstRejected = rejected.sort((a, b) => a.since - b.since)[0];
  if (firstRejected !== undefined) {
    problems.push({
      kind: "token_rejected",
      since: iso(firstRejected.since),
      warning: `Telegram: token rejected (${firstRejected.method}: 401 ${firstRejected.description}); check TELEGRAM_BOT_TOKEN with @BotFather`,
    });
  }

  const failing = live
    .flatMap((report) => (report.callsFailing === undefined ? [] : [report.callsFailing]))
    .filter((calls) => calls.failures >= FAILURES_BEFORE_REPORTING)
    .sort((a, b) => a.since - b.since);
  const firstFailing = failing[0];
  if (firstFailing !== undefined) {
    const failures = failing.reduce((sum, calls) => sum + calls.failures, 0);
    problems.push({
      kind: "calls_failing",
      since: iso(firstFailing.since),
      warning: `Telegram: calls failing for ${seconds(now - firstFailing.since)} (${failures} attempts, last ${firstFailing.method}: ${firstFailing.error}); cards wait until it answers (TELEGRAM_API_ROOT)`,
    });
  }

  const polling = pollingProblem(live, stale, now);
  if (polling !== undefined) problems.push(polling);
  // Once someone polls, the last words of pollers that died are history.
  const somebodyPolls = live.some((report) => report.polling?.state === "polling");
  const forget = somebodyPolls ? stale.map((report) => report.process) : [];
  return { problems, forget };
}

function pollingProblem(
  live: readonly TelegramProcessReport[],
  stale: readonly TelegramProcessReport[],
  now: number,
): TelegramProblem | undefined {
  const states = live.flatMap((report) => (report.polling === undefined ? [] : [report.polling]));
  // webhook mode, or someone polls (a standby's or a starting process's state is no problem then)
  if (states.some((state) => state.state === "polling" || state.state === "webhook")) return undefined;
  const conflict = states.find((state) => state.state === "conflict");
  if (conflict !== undefined) {
    return {
      kind: "polling_conflict",
      since: iso(conflict.since),
      warning: `Telegram: polling in conflict for ${seconds(now - conflict.since)} (409 ${conflict.detail ?? "Conflict"}); another process polls with this bot token: stop it, or give it a token of its own`,
    };
  }
  // said by token_rejected already; still starting: not a problem yet
  if (states.some((state) => state.state === "token_rejected" || state.state === "starting"))
    return undefined;
  const stopped = states.find((state) => state.state === "stopped");
  if (stopped !== undefined) {
    return {
      kind: "polling_stopped",
      since: iso(stopped.since),
      warning: `Telegram: polling stopped (${stopped.detail ?? "no reason given"}); buttons and commands get no answer until the bot restarts`,
    };
  }
  const standby = states.filter((state) => state.state === "standby").sort((a, b) => a.since - b.since)[0];
  const lastHeard = stale.filter((report) => report.polling !== undefined).sort((a, b) => b.at - a.at)[0];
  // a standby takes the lease within seconds of its holder's end; one that never does is stuck
  if (standby !== undefined && (lastHeard !== undefined || now - standby.since > 60_000)) {
    return {
      kind: "polling_stopped",
      since: iso(lastHeard?.at ?? standby.since),
      warning: `Telegram: nobody polls; every bot process stands by and none holds the poller lease`,
    };
  }
  if (standby === undefined && lastHeard !== undefined) {
    return {
      kind: "polling_stopped",
      since: iso(lastHeard.at),
      warning: `Telegram: nobody polls; the bot process ${lastHeard.process} stopped reporting ${seconds(now - lastHeard.at)} ago (killed or frozen?) and no other bot process runs`,
    };
  }
  return undefined;
}

/** Reads every report, says what is wrong, and forgets the dead pollers' reports once someone polls. */
export async function readTelegramProblems(
  store: Pick<TelegramHealthStore, "readAll" | "remove">,
  now: number = Date.now(),
): Promise<TelegramProblem[]> {
  const { problems, forget } = telegramProblems(await store.readAll(), now);
  if (forget.length > 0) await store.remove(...forget).catch(() => undefined);
  return problems;
}
