// Use case: what is wrong with Telegram right now, from every process's report
// (kv/telegram-health.ts). Four problems, each one line an operator can act on: the token is
// refused, polling is in conflict with another poller, nobody polls, calls fail. A report counts
// while its process keeps writing; a bot process that stopped writing without saying goodbye
// (killed, frozen, its Redis link lost) is a problem of its own, so a dead poller never leaves
// health green. Pure rules over the reports, plus one read that also forgets the reports of
// processes that died once another process polls.
import type { TelegramHealthStore, TelegramProcessReport } from "../kv/telegram-health.js";
import { englishOf, type StatusSaying } from "../domain/i18n/index.js";

export type TelegramProblemKind = "token_rejected" | "polling_conflict" | "polling_stopped" | "calls_failing";

export interface TelegramProblem {
  kind: TelegramProblemKind;
  /** Since when (ISO time). */
  since: string;
  /** One line saying what is wrong and what to do (in English, for /health and the logs). */
  warning: string;
  /** The same words as data, for /status to say in BOT_LANGUAGE. */
  said?: StatusSaying;
}

/** A report older than this many of its process's write intervals is stale: the process stopped writing. */
export const STALE_AFTER_INTERVALS = 3;
/** Consecutive unanswered calls before "calls failing" is said: one lost request is not an outage. */
export const FAILURES_BEFORE_REPORTING = 2;

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

/** A problem of `kind` since `since`, said by `said`. */
function problem(kind: TelegramProblemKind, since: number, said: StatusSaying): TelegramProblem {
  return { kind, since: iso(since), warning: `Telegram: ${englishOf("statusDetail", said)}`, said };
}

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
    problems.push(
      problem("token_rejected", firstRejected.since, {
        code: "token_rejected",
        method: firstRejected.method,
        description: firstRejected.description,
      }),
    );
  }

  const failing = live
    .flatMap((report) => (report.callsFailing === undefined ? [] : [report.callsFailing]))
    .filter((calls) => calls.failures >= FAILURES_BEFORE_REPORTING)
    .sort((a, b) => a.since - b.since);
  const firstFailing = failing[0];
  if (firstFailing !== undefined) {
    const failures = failing.reduce((sum, calls) => sum + calls.failures, 0);
    problems.push(
      problem("calls_failing", firstFailing.since, {
        code: "calls_failing",
        seconds: seconds(now - firstFailing.since),
        failures,
        method: firstFailing.method,
        error: firstFailing.error,
      }),
    );
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
    return problem("polling_conflict", conflict.since, {
      code: "polling_conflict",
      seconds: seconds(now - conflict.since),
      detail: conflict.detail ?? "Conflict",
    });
  }
  // said by token_rejected already; still starting: not a problem yet
  if (states.some((state) => state.state === "token_rejected" || state.state === "starting"))
    return undefined;
  const stopped = states.find((state) => state.state === "stopped");
  if (stopped !== undefined) {
    return problem("polling_stopped", stopped.since, {
      code: "polling_stopped",
      detail: stopped.detail ?? "",
    });
  }
  const standby = states.filter((state) => state.state === "standby").sort((a, b) => a.since - b.since)[0];
  const lastHeard = stale.filter((report) => report.polling !== undefined).sort((a, b) => b.at - a.at)[0];
  // a standby takes the lease within seconds of its holder's end; one that never does is stuck
  if (standby !== undefined && (lastHeard !== undefined || now - standby.since > 60_000)) {
    return problem("polling_stopped", lastHeard?.at ?? standby.since, { code: "nobody_polls_standby" });
  }
  if (standby === undefined && lastHeard !== undefined) {
    return problem("polling_stopped", lastHeard.at, {
      code: "nobody_polls_silent",
      process: lastHeard.process,
      seconds: seconds(now - lastHeard.at),
    });
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
