// `/rollback <namespace>/<deployment>` (approvers only): shows the current and previous revision
// and asks for confirmation in a short conversation. Confirming does not roll anything back by
// itself: it files a pending action that goes through the guardrails and the card's Approve,
// like any other.
import { createConversation, type Conversation } from "@grammyjs/conversations";
import { Composer, InlineKeyboard } from "grammy";
import type {
  RevisionInfo,
  RollbackPreview,
  RollbackRequest,
  RollbackTarget,
} from "../../handlers/request-rollback.js";
import { parseRollbackTarget } from "../../handlers/request-rollback.js";
import type { BotContext } from "../context.js";
import { cut, escapeHtml } from "../cards/html.js";
import {
  decisionText,
  messagesFor,
  verdictText,
  type Language,
  type Messages,
} from "../../domain/i18n/index.js";

export const ROLLBACK = "rollback";

export interface RollbackCommandDeps {
  approverIds: readonly number[];
  kubeConfigured: boolean;
  preview: (target: RollbackTarget) => Promise<RollbackPreview>;
  request: (input: RollbackTarget & { userId: number; actor: string }) => Promise<RollbackRequest>;
  /** Audits a refused /rollback (someone who is not an approver). */
  refused: (input: { userId: number; username?: string; text: string }) => Promise<void>;
  /** BOT_LANGUAGE: the confirmation dialogue's language (default English). */
  language?: Language;
}

/** How long the Confirm button waits; the revisions it shows may be stale after that. */
const CONFIRM_WITHIN_MS = 5 * 60_000;

const CONFIRM = "rb:confirm";
const CANCEL = "rb:cancel";

function revisionLine(label: string, revision: RevisionInfo, t: Messages): string {
  const images = revision.images.map((image) => `<code>${escapeHtml(cut(image, 200))}</code>`).join(", ");
  return t.rollback.revision({ label, revision: revision.revision, images });
}

/** Why the deployment cannot be read: it does not exist, or the API server's message (escaped). */
function unavailableWhy(
  preview: Extract<RollbackPreview, { outcome: "not_found" | "unreachable" }>,
  t: Messages,
): string {
  return preview.outcome === "not_found"
    ? escapeHtml(t.rollback.notFound({ name: `${preview.namespace}/${preview.deployment}` }))
    : escapeHtml(cut(preview.detail, 300));
}

// The rollback texts carry no markup characters of their own (domain/i18n/en.ts): what they
// insert is escaped here.
export function renderPreview(
  target: RollbackTarget,
  preview: RollbackPreview,
  t: Messages = messagesFor(),
): string {
  const r = t.rollback;
  const name = `<b>${escapeHtml(target.namespace)}/${escapeHtml(target.deployment)}</b>`;
  switch (preview.outcome) {
    case "not_configured":
      return r.notConfigured;
    case "not_found":
    case "unreachable":
      return r.cannot({ name, why: unavailableWhy(preview, t) });
    case "no_history":
      return r.noEarlier({
        name,
        only: preview.current === undefined ? "" : revisionLine(r.currentLower, preview.current, t),
      });
    case "ready":
      return [
        r.ask({ name }),
        revisionLine(r.current, preview.current, t),
        revisionLine(r.backTo, preview.previous, t),
        r.ready({ ready: preview.readyReplicas, replicas: preview.replicas }),
        "",
        r.confirming,
      ].join("\n");
  }
}

export function renderRequest(request: RollbackRequest, t: Messages = messagesFor()): string {
  const r = t.rollback;
  switch (request.outcome) {
    case "not_allowed":
      return r.approversOnly;
    case "not_configured":
      return r.nothingCreatedNoKube;
    case "unavailable":
      return r.nothingCreated({
        why:
          request.preview.outcome === "not_configured"
            ? r.kubeMissing
            : request.preview.outcome === "no_history"
              ? r.noHistory
              : unavailableWhy(request.preview, t),
      });
    case "refused":
      return [
        r.refused,
        ...request.failed.map(
          (verdict) => `• ${escapeHtml(verdict.rule)}: ${escapeHtml(cut(verdictText(verdict, t), 300))}`,
        ),
      ].join("\n");
    case "already_requested":
      return r.already({ status: escapeHtml(request.status), id: escapeHtml(request.incidentId) });
    case "proposed":
      return `${r.filed({ id: escapeHtml(request.incidentId) })}\n${escapeHtml(cut(decisionText(request.decision, t), 400))}`;
  }
}

type RollbackConversation = Conversation<BotContext, BotContext>;

function rollbackConversation(deps: RollbackCommandDeps) {
  return async function rollback(
    conversation: RollbackConversation,
    ctx: BotContext,
    target: RollbackTarget,
  ): Promise<void> {
    const t = messagesFor(deps.language);
    const preview = await conversation.external(() => deps.preview(target));
    if (preview.outcome !== "ready") {
      await ctx.reply(renderPreview(target, preview, t), { parse_mode: "HTML" });
      return;
    }
    const asked = await ctx.reply(renderPreview(target, preview, t), {
      parse_mode: "HTML",
      reply_markup: new InlineKeyboard().text(t.rollback.confirm, CONFIRM).text(t.rollback.cancel, CANCEL),
    });
    // Every preview's buttons carry the same data: only a press on this preview answers it (an
    // earlier /rollback's Confirm must not file this target); others get the "expired" answer.
    const answer = await conversation
      .waitForCallbackQuery([CONFIRM, CANCEL], { maxMilliseconds: CONFIRM_WITHIN_MS })
      .and((pressed) => pressed.callbackQuery.message?.message_id === asked.message_id);
    await answer.editMessageReplyMarkup();
    if (answer.callbackQuery.data === CANCEL) {
      await answer.answerCallbackQuery({ text: t.rollback.cancelled });
      await answer.reply(t.rollback.rollbackCancelled);
      return;
    }
    const from = answer.callbackQuery.from;
    const request = await conversation.external(() =>
      deps.request({
        ...target,
        userId: from.id,
        actor: from.username === undefined ? `tg:${from.id}` : `@${from.username}`,
      }),
    );
    await answer.answerCallbackQuery({
      text: request.outcome === "proposed" ? t.rollback.filedToast : t.rollback.notFiledToast,
    });
    await answer.reply(renderRequest(request, t), { parse_mode: "HTML" });
  };
}

export function rollbackCommand(deps: RollbackCommandDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.use(
    createConversation<BotContext, BotContext>(rollbackConversation(deps), { id: ROLLBACK, parallel: true }),
  );
  composer.command("rollback", async (ctx) => {
    if (ctx.from === undefined || !deps.approverIds.includes(ctx.from.id)) {
      if (ctx.from !== undefined)
        await deps.refused({
          userId: ctx.from.id,
          ...(ctx.from.username === undefined ? {} : { username: ctx.from.username }),
          text: (ctx.message?.text ?? "/rollback").slice(0, 128),
        });
      await ctx.reply(ctx.messages.rollback.approversOnly);
      return;
    }
    const target = parseRollbackTarget(ctx.match);
    if (target === undefined) {
      await ctx.reply(ctx.messages.rollback.usage);
      return;
    }
    if (!deps.kubeConfigured) {
      await ctx.reply(ctx.messages.rollback.notConfigured);
      return;
    }
    await ctx.conversation.exit(ROLLBACK);
    await ctx.conversation.enter(ROLLBACK, target);
  });
  // A Confirm or Cancel whose dialogue is gone (expired, or pressed by someone else).
  composer.callbackQuery([CONFIRM, CANCEL], (ctx) =>
    ctx.answerCallbackQuery({ text: ctx.messages.rollback.expired }),
  );
  return composer;
}
