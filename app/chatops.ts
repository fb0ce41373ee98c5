// Wires the card buttons and /silence to their use cases: the runtime hands in the pool, the
// queues and the configuration; every decision is followed by a card update.
import type { Chat, InlineKeyboardMarkup, User } from "grammy/types";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CardBindingDeps, PressWhere } from "../bot/features/card-binding.js";
import type { TeamDeps } from "../bot/features/team-only.js";
import { SaidOnce } from "../kv/said-once.js";
import { renderTelegramCard } from "../bot/cards/render-telegram.js";
import type { SilenceCommandDeps } from "../bot/commands/silence.js";
import type { CardButtonDeps } from "../bot/features/card-buttons.js";
import { audit } from "../db/actions.js";
import { chatAliases } from "../db/chats.js";
import { getIncident, isCardMessage } from "../db/incidents.js";
import { readSnapshot, type Pool, type Queryable } from "../db/pool.js";
import { alertmanagerSilences } from "../gateways/alertmanager-silences.js";
import { approveAction } from "../handlers/approve-action.js";
import { buildIncidentCard } from "../handlers/build-incident-card.js";
import { readCardParts } from "../handlers/sync-incident-card.js";
import { silenceLabels, type SilenceDeps } from "../handlers/create-silence.js";
import { actorOf, guardDecision } from "../handlers/decision-guard.js";
import { messagesFor } from "../domain/i18n/index.js";
import { expireSilence } from "../handlers/expire-silence.js";
import { listSilences } from "../handlers/list-silences.js";
import { checkReject, rejectAction } from "../handlers/reject-action.js";
import { silenceIncident } from "../handlers/silence-incident.js";
import { snoozeIncident, type SnoozeChoice } from "../handlers/snooze-incident.js";
import { takeIncident } from "../handlers/take-incident.js";
import { remindJob } from "../jobs/remind.processor.js";
import { enqueueCard, type Queues, enqueueExecution } from "../jobs/queues.js";
import type { Config } from "../registry/config.js";

export interface ChatOpsOptions {
  /** Milliseconds per snooze choice (default 15 min / 1 h / 4 h); tests shorten them. */
  snoozeDurations?: Readonly<Record<SnoozeChoice, number>>;
  /** How long the reject and /silence dialogues wait for an answer (default 5 min). */
  replyTimeoutMs?: number;
}

export function chatOpsDeps(
  deps: {
    config: Readonly<Config>;
    pool: Pool;
    queues: Pick<Queues, "execute" | "notify" | "remind">;
    /** Why an action cannot run here (no executor configured): its card offers no Approve. */
    cannotRun: (action: string) => string | undefined;
    redis: Redis;
    logger: Logger;
    /** Cards showing Snooze's or Silence's choices, kept by the notify workers' edits. */
    choices?: CardButtonDeps["choices"];
  },
  options: ChatOpsOptions = {},
): {
  buttons: CardButtonDeps;
  silences: SilenceCommandDeps;
  guards: { team: TeamDeps; binding: CardBindingDeps };
} {
  const { config, pool, queues } = deps;
  const approverIds = config.telegram.approverIds;
  const language = config.language;
  /** Runs a decision and, when it changed something, brings the card up to date. */
  const thenCard =
    <I extends { incidentId: string }, R extends { outcome: string }>(
      decide: (input: I) => Promise<R>,
      changed: readonly string[],
    ) =>
    async (input: I): Promise<R> => {
      const result = await decide(input);
      if (changed.includes(result.outcome)) await enqueueCard(queues.notify, input.incidentId);
      return result;
    };
  const silenceDeps: SilenceDeps = {
    db: pool,
    approverIds,
    timeZone: config.timeZone,
    language,
    ...(config.alertmanager.url === undefined
      ? {}
      : { alertmanager: alertmanagerSilences(config.alertmanager.url) }),
  };
  /** Audits a press or answer that changes nothing by itself. */
  const note = async (input: {
    incidentId: string;
    userId: number;
    username?: string;
    what: string;
    outcome: string;
  }) => {
    const known = (await getIncident(pool, input.incidentId)) !== undefined;
    await audit(pool, {
      incidentId: known ? input.incidentId : null,
      actor: actorOf(input),
      what: input.what,
      outcome: input.outcome,
      ...(known ? {} : { detail: { incidentId: input.incidentId } }),
    });
  };
  const replyTimeout = options.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: options.replyTimeoutMs };

  const buttons: CardButtonDeps = {
    approve: thenCard(
      (input) =>
        approveAction(
          {
            db: pool,
            approverIds,
            // the job id is the action's: however often it is queued, it runs once
            enqueueExecution: (actionId) => enqueueExecution(queues.execute, actionId),
            cannotRun: deps.cannotRun,
            language,
          },
          input,
        ),
      ["approved"],
    ),
    guard: (input) => guardDecision({ db: pool, approverIds, language }, input),
    note: (input) => note(input),
    reject: {
      check: (input) => checkReject({ db: pool, approverIds, language }, input),
      decide: thenCard((input) => rejectAction({ db: pool, approverIds, language }, input), ["rejected"]),
      abandon: (input) => note({ ...input, what: "reject", outcome: input.why }),
      language,
      ...replyTimeout,
    },
    snooze: thenCard(
      (input) =>
        snoozeIncident(
          {
            db: pool,
            approverIds,
            timeZone: config.timeZone,
            language,
            ...(options.snoozeDurations === undefined ? {} : { durations: options.snoozeDurations }),
            scheduleReminder: (incidentId, until) => {
              const job = remindJob(incidentId, until);
              return queues.remind.add("remind", job.data, job.options);
            },
          },
          input,
        ),
      ["snoozed"],
    ),
    silence: async (input) => {
      const result = await thenCard(
        (i: typeof input) => silenceIncident(silenceDeps, i),
        ["silenced"],
      )(input);
      if (result.outcome !== "silenced") return result;
      const toast = result.text.length <= 200 ? result.text : `${result.text.slice(0, 199)}…`;
      return {
        ...result,
        text: toast,
        announce: messagesFor(language).answers.silencedBy({
          id: input.incidentId,
          who: actorOf(input),
          text: result.text,
        }),
      };
    },
    take: thenCard(
      (input) =>
        takeIncident(
          { db: pool, responderIds: config.telegram.responderIds, timeZone: config.timeZone, language },
          input,
        ),
      ["taken", "taken_over"],
    ),
    ...(deps.choices === undefined ? {} : { choices: deps.choices }),
    cardMarkup: async (incidentId): Promise<InlineKeyboardMarkup> => {
      // the same snapshot read as the card's own (handlers/sync-incident-card.ts)
      const parts = await readSnapshot(pool, (db) => readCardParts(db, incidentId));
      if (parts === undefined) return { inline_keyboard: [] };
      const { incident, events, analysis, pending } = parts;
      const waiting = pending?.status === "pending" ? pending : undefined;
      return (
        renderTelegramCard(
          buildIncidentCard(
            incident,
            events,
            analysis,
            undefined,
            waiting?.id,
            waiting === undefined ? undefined : deps.cannotRun(waiting.action),
          ),
          { language },
        ).replyMarkup ?? {
          inline_keyboard: [],
        }
      );
    },
  };

  const silences: SilenceCommandDeps = {
    guard: async (input) => {
      if (approverIds.includes(input.userId)) return { ok: true };
      await audit(pool, {
        incidentId: null,
        actor: actorOf(input),
        what: input.what,
        outcome: "not_allowed",
      });
      return { ok: false, text: messagesFor(language).answers.notAnApprover };
    },
    create: (input) => silenceLabels(silenceDeps, input),
    list: () => listSilences({ db: pool, timeZone: config.timeZone, language }),
    expire: (input) => expireSilence(silenceDeps, input),
    language,
    ...replyTimeout,
  };
  const saidOnce = new SaidOnce(deps.redis, config.redis.prefix);
  const place = (chat: Chat | undefined, messageId?: number) => ({
    ...(chat === undefined ? {} : { chat: chat.id, chatType: chat.type }),
    ...(messageId === undefined ? {} : { message: messageId }),
  });
  const guards = {
    team: {
      teamChats: teamChatsOf(config, pool),
      members: [...new Set([...config.telegram.responderIds, ...config.telegram.viewerIds])],
      refused: async ({ user, chat, what }: { user: User | undefined; chat: Chat; what: string }) => {
        deps.logger.info(
          { user: user?.id, chat: chat.id, chatType: chat.type, what },
          "refused: not the team",
        );
        await audit(pool, {
          incidentId: null,
          actor: user === undefined ? `chat:${chat.id}` : actorOf({ userId: user.id, ...usernameOf(user) }),
          what,
          outcome: "not_team",
          detail: place(chat),
        });
      },
      firstRefusal: (chatId: number) => saidOnce.first(`refusal:${chatId}`),
    },
    binding: {
      isCard: (where: PressWhere) => isCardMessage(pool, where),
      pressed: async (input: Parameters<CardBindingDeps["pressed"]>[0]) => {
        deps.logger.info(
          {
            incident: input.incidentId,
            user: input.user.id,
            chat: input.chat?.id,
            message: input.messageId,
            data: input.data,
            outcome: input.outcome,
          },
          "button pressed",
        );
        const known =
          input.incidentId !== undefined && (await getIncident(pool, input.incidentId)) !== undefined;
        await audit(pool, {
          incidentId: known ? (input.incidentId ?? null) : null,
          actor: actorOf({ userId: input.user.id, ...usernameOf(input.user) }),
          what: "press",
          outcome: input.outcome,
          detail: {
            ...place(input.chat, input.messageId),
            data: input.data,
            ...(known || input.incidentId === undefined ? {} : { incidentId: input.incidentId }),
          },
        });
      },
    },
  };
  return { buttons, silences, guards };
}

/**
 * The team's chats: the configured ones and the supergroups they became (db/chats.ts), read at
 * most every 10 s, so a migrated group's people are still the team before anyone restarts the bot.
 */
function teamChatsOf(config: Readonly<Config>, db: Queryable): () => Promise<readonly string[]> {
  const configured = [config.telegram.chatId, ...config.telegram.routes.map((route) => route.chatId)];
  let cached: { at: number; chats: readonly string[] } | undefined;
  return async () => {
    if (cached !== undefined && Date.now() - cached.at < 10_000) return cached.chats;
    const aliases = await chatAliases(db, configured);
    cached = { at: Date.now(), chats: [...configured, ...aliases.values()] };
    return cached.chats;
  };
}

const usernameOf = (user: User): { username?: string } =>
  user.username === undefined ? {} : { username: user.username };
