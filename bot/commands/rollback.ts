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

export const ROLLBACK = "rollback";

export interface RollbackCommandDeps {
  approverIds: readonly number[];
  kubeConfigured: boolean;
  preview: (target: RollbackTarget) => Promise<RollbackPreview>;
  request: (input: RollbackTarget & { userId: number; actor: string }) => Promise<RollbackRequest>;
  /** Audits a refused /rollback (someone who is not an approver). */
  refused: (input: { userId: number; username?: string; text: string }) => Promise<void>;
}

/** How long the Confirm button waits; the revisions it shows may be stale after that. */
const CONFIRM_WITHIN_MS = 5 * 60_000;

const CONFIRM = "rb:confirm";
const CANCEL = "rb:cancel";

function revisionLine(label: string, revision: RevisionInfo): string {
  const images = revision.images.map((image) => `<code>${escapeHtml(cut(image, 200))}</code>`).join(", ");
  return `${label}: revision ${revision.revision} · ${images || "no image"}`;
}

export function renderPreview(target: RollbackTarget, preview: RollbackPreview): string {
  const name = `<b>${escapeHtml(target.namespace)}/${escapeHtml(target.deployment)}</b>`;
  switch (preview.outcome) {
    case "not_configured":
      return "Kubernetes is not configured (no KUBECONFIG): nothing to roll back.";
    case "not_found":
    case "unreachable":
      return `Cannot roll back ${name}: ${escapeHtml(cut(preview.detail, 300))}`;
    case "no_history":
      return `Cannot roll back ${name}: it has no earlier revision${
        preview.current === undefined ? "" : ` (only ${revisionLine("current", preview.current)})`
      }.`;
    case "ready":
      return [
        `⏪ Roll back ${name}?`,
        revisionLine("Current", preview.current),
        revisionLine("Back to", preview.previous),
        `${preview.readyReplicas}/${preview.replicas} replicas ready now.`,
        "",
        "Confirming files a ROLLBACK action that still needs ✅ Approve on its card.",
      ].join("\n");
  }
}

export function renderRequest(request: RollbackRequest): string {
  switch (request.outcome) {
    case "not_allowed":
      return "Only approvers may request a rollback.";
    case "not_configured":
      return "Kubernetes is not configured (no KUBECONFIG): nothing was created.";
    case "unavailable":
      return `Nothing was created: ${
        request.preview.outcome === "not_configured"
          ? "Kubernetes is not configured."
          : request.preview.outcome === "no_history"
            ? "the deployment has no earlier revision."
            : escapeHtml(cut(request.preview.detail, 300))
      }`;
    case "refused":
      return [
        "⛔ Refused by the guardrails; nothing was created.",
        ...request.failed.map(
          (verdict) => `• ${escapeHtml(verdict.rule)}: ${escapeHtml(cut(verdict.detail, 300))}`,
        ),
      ].join("\n");
    case "already_requested":
      return `A rollback of this deployment is already ${escapeHtml(request.status)}: ${escapeHtml(request.incidentId)}.`;
    case "proposed":
      return `📝 Rollback filed as ${escapeHtml(request.incidentId)}; it runs once an approver presses ✅ Approve on its card.\n${escapeHtml(cut(request.decision.summary, 400))}`;
  }
}

type RollbackConversation = Conversation<BotContext, BotContext>;

function rollbackConversation(deps: RollbackCommandDeps) {
  return async function rollback(
    conversation: RollbackConversation,
    ctx: BotContext,
    target: RollbackTarget,
  ): Promise<void> {
    const preview = await conversation.external(() => deps.preview(target));
    if (preview.outcome !== "ready") {
      await ctx.reply(renderPreview(target, preview), { parse_mode: "HTML" });
      return;
    }
    const asked = await ctx.reply(renderPreview(target, preview), {
      parse_mode: "HTML",
      reply_markup: new InlineKeyboard().text("⏪ Confirm", CONFIRM).text("Cancel", CANCEL),
    });
    // Every preview's buttons carry the same data: only a press on this preview answers it (an
    // earlier /rollback's Confirm must not file this target); others get the "expired" answer.
    const answer = await conversation
      .waitForCallbackQuery([CONFIRM, CANCEL], { maxMilliseconds: CONFIRM_WITHIN_MS })
      .and((pressed) => pressed.callbackQuery.message?.message_id === asked.message_id);
    await answer.editMessageReplyMarkup();
    if (answer.callbackQuery.data === CANCEL) {
      await answer.answerCallbackQuery({ text: "Cancelled." });
      await answer.reply("Rollback cancelled; nothing was created.");
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
    await answer.answerCallbackQuery({ text: request.outcome === "proposed" ? "Filed." : "Not filed." });
    await answer.reply(renderRequest(request), { parse_mode: "HTML" });
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
      await ctx.reply("Only approvers may request a rollback.");
      return;
    }
    const target = parseRollbackTarget(ctx.match);
    if (target === undefined) {
      await ctx.reply("Usage: /rollback <namespace>/<deployment>, e.g. /rollback awoooi-prod/awoooi-api");
      return;
    }
    if (!deps.kubeConfigured) {
      await ctx.reply("Kubernetes is not configured (no KUBECONFIG): nothing to roll back.");
      return;
    }
    await ctx.conversation.exit(ROLLBACK);
    await ctx.conversation.enter(ROLLBACK, target);
  });
  // A Confirm or Cancel whose dialogue is gone (expired, or pressed by someone else).
  composer.callbackQuery([CONFIRM, CANCEL], (ctx) =>
    ctx.answerCallbackQuery({ text: "This confirmation has expired or is not yours; run /rollback again." }),
  );
  return composer;
}
