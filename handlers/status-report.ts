// Use case: what `/status` shows. Every dependency is asked through a small probe, each bounded
// by the same timeout and asked at the same time, so the answer comes within a few seconds even
// when something hangs; a probe that fails or takes too long is reported, never thrown.
import type { ChainOverrides } from "../kv/chain-settings.js";
import { withDeadline as runWithDeadline } from "../domain/deadline.js";
import type { Severity } from "../domain/incident.js";
import type { TracesTable } from "../gateways/signoz-spans.js";
import type { TelegramProblem } from "./telegram-health.js";
import { englishOf, type StatusSaying } from "../domain/i18n/index.js";

/** A probe gets a signal that aborts when its time is up. */
export type Probe<T = unknown> = (signal: AbortSignal) => Promise<T>;

/** "unusable": it answers, but cannot serve as configured (an LLM model that does not exist). */
export type CheckState = "ok" | "down" | "unusable" | "configured" | "not_configured";

export interface Check {
  name: string;
  state: CheckState;
  /** Why it is down, or what "configured" means for it. */
  detail?: string;
  /** The detail as data where the words are the bot's own, for /status to say in BOT_LANGUAGE. */
  said?: readonly StatusSaying[];
}

/** Why a read failed: the message, and the bot's own words as data when they are (a deadline). */
export interface Failure {
  error: string;
  said?: readonly StatusSaying[];
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** An LLM provider or an executor target: configured or not, and reachable where a cheap probe exists. */
export interface Target {
  name: string;
  configured: boolean;
  /** Absent when asking would cost something (a model call): then "configured" is all we say. */
  probe?: Probe;
  /** Shown when configured but not probed. */
  note?: string;
}

export interface StatusDeps {
  timeoutMs: number;
  redis: Probe;
  postgres: Probe;
  queues: readonly { name: string; depth: Probe<QueueDepth> }[];
  llm: readonly Target[];
  executors: readonly Target[];
  openIncidents: Probe<Partial<Record<Severity, number>>>;
  /** Automatic repairs in the last hour, across every process. */
  repairsLastHour: Probe<number>;
  maxRepairsPerHour: number;
  /** What SWITCH_MODEL and FALLBACK_AI changed in the chain, until when. */
  chainOverrides?: Probe<ChainOverrides>;
  /** Which SigNoz trace table the poller reads; absent without SIGNOZ_CLICKHOUSE_URL. */
  signozTraces?: Probe<TracesTable>;
  /** What is wrong with Telegram, as every process reports it (handlers/telegram-health.ts). */
  telegram?: Probe<readonly TelegramProblem[]>;
}

export interface StatusReport {
  redis: Check;
  postgres: Check;
  queues: ({ name: string } & ({ depth: QueueDepth } | Failure))[];
  llm: Check[];
  executors: Check[];
  openIncidents: { bySeverity: Partial<Record<Severity, number>> } | Failure;
  repairs: { used: number; max: number } | (Failure & { max: number });
  /** Absent when not asked for. */
  chainOverrides?: ChainOverrides | Failure;
  /** The table the SigNoz poller reads, or why there is none; absent when SigNoz is not configured. */
  signozTraces?: TracesTable | Failure;
  /** Telegram as health sees it: ok, or "unusable" naming each problem; absent when not asked. */
  telegram?: Check;
}

export class ProbeTimeout extends Error {
  override readonly name = "ProbeTimeout";
  readonly said: StatusSaying;

  constructor(ms: number) {
    const said: StatusSaying = { code: "no_answer", ms };
    super(englishOf("statusDetail", said));
    this.said = said;
  }
}

/** Runs `probe` with a deadline; rejects with ProbeTimeout (and aborts the probe) when it passes. */
export function withDeadline<T>(probe: Probe<T>, ms: number): Promise<T> {
  return runWithDeadline(ms, probe, () => new ProbeTimeout(ms));
}

function reason(error: unknown): Failure {
  if (error instanceof ProbeTimeout) return { error: error.message, said: [error.said] };
  const text = error instanceof Error ? error.message : String(error);
  return { error: text.replace(/\s+/g, " ").trim().slice(0, 200) || "failed" };
}

async function attempt<T>(probe: Probe<T>, ms: number): Promise<{ ok: T } | Failure> {
  try {
    return { ok: await withDeadline(probe, ms) };
  } catch (error) {
    return reason(error);
  }
}

/**
 * A probe may answer `{ note }`: a line worth showing even when all is well ("keeps nothing on
 * disk"), or `{ unusable }`: reachable, but unable to serve as configured, and why.
 */
async function check(name: string, probe: Probe, ms: number): Promise<Check> {
  const result = await attempt(probe, ms);
  if (!("ok" in result)) return { name, state: "down", detail: result.error, ...saidOf(result) };
  const answer = result.ok as
    { unusable?: unknown; note?: unknown; said?: readonly StatusSaying[] } | undefined;
  if (typeof answer?.unusable === "string") {
    return { name, state: "unusable", detail: answer.unusable, ...saidOf(answer) };
  }
  return typeof answer?.note === "string"
    ? { name, state: "ok", detail: answer.note, ...saidOf(answer) }
    : { name, state: "ok" };
}

/** Each problem's words as data; undefined when one lacks them (then all are said as reported). */
function everySaid(problems: readonly TelegramProblem[]): StatusSaying[] | undefined {
  const said = problems.flatMap((problem) => (problem.said === undefined ? [] : [problem.said]));
  return said.length === problems.length ? said : undefined;
}

/** A probe's words as data, when it gave them (`{ said }` beside its note or its reason). */
function saidOf(answer: { said?: readonly StatusSaying[] | undefined }): { said?: readonly StatusSaying[] } {
  return answer.said === undefined ? {} : { said: answer.said };
}

async function checkTarget(target: Target, ms: number): Promise<Check> {
  if (!target.configured) return { name: target.name, state: "not_configured" };
  if (target.probe === undefined) {
    return {
      name: target.name,
      state: "configured",
      ...(target.note === undefined ? {} : { detail: target.note }),
    };
  }
  return check(target.name, target.probe, ms);
}

export async function statusReport(deps: StatusDeps): Promise<StatusReport> {
  const ms = deps.timeoutMs;
  const telegramProbe = deps.telegram;
  const [redis, postgres, queues, llm, executors, open, repairs, overrides, traces, telegram] =
    await Promise.all([
      check("Redis", deps.redis, ms),
      check("PostgreSQL", deps.postgres, ms),
      Promise.all(
        deps.queues.map(async (queue) => {
          const result = await attempt(queue.depth, ms);
          return "ok" in result ? { name: queue.name, depth: result.ok } : { name: queue.name, ...result };
        }),
      ),
      Promise.all(deps.llm.map((target) => checkTarget(target, ms))),
      Promise.all(deps.executors.map((target) => checkTarget(target, ms))),
      attempt(deps.openIncidents, ms),
      attempt(deps.repairsLastHour, ms),
      deps.chainOverrides === undefined ? undefined : attempt(deps.chainOverrides, ms),
      deps.signozTraces === undefined ? undefined : attempt(deps.signozTraces, ms),
      telegramProbe === undefined
        ? undefined
        : check(
            "Telegram",
            async (signal) => {
              const problems = await telegramProbe(signal);
              return problems.length === 0
                ? undefined
                : {
                    unusable: problems
                      .map((problem) => problem.warning.replace(/^Telegram: /, ""))
                      .join("; "),
                    ...saidOf({ said: everySaid(problems) }),
                  };
            },
            ms,
          ),
    ]);
  return {
    redis,
    postgres,
    queues,
    llm,
    executors,
    openIncidents: "ok" in open ? { bySeverity: open.ok } : open,
    repairs:
      "ok" in repairs
        ? { used: repairs.ok, max: deps.maxRepairsPerHour }
        : { ...repairs, max: deps.maxRepairsPerHour },
    ...(overrides === undefined ? {} : { chainOverrides: "ok" in overrides ? overrides.ok : overrides }),
    ...(traces === undefined ? {} : { signozTraces: "ok" in traces ? traces.ok : traces }),
    ...(telegram === undefined ? {} : { telegram }),
  };
}
