// Telegram's webhook (webhook mode, TELEGRAM_WEBHOOK_URL): Telegram POSTs each update here, to
// whichever HTTP replica the load balancer picks. The X-Telegram-Bot-Api-Secret-Token header is
// compared in constant time (401 otherwise, braked like any failed credential); the update goes to
// the grammY bot the runtime handed in. Telegram resends an update it got no 2xx for, so a failure
// to handle it answers 500 (another replica gets it again; the use cases are idempotent per press),
// and an update still being handled after `answerWithinMs` is answered 200 while its handling goes
// on — grammY's webhookCallback `onTimeout: "return"` semantics — so that a slow use case never
// makes Telegram deliver the same press twice.
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../errors.js";

export interface TelegramWebhookDeps {
  /** The path Telegram POSTs to: the path of TELEGRAM_WEBHOOK_URL. */
  path: string;
  /** TELEGRAM_WEBHOOK_SECRET, as given to setWebhook's secret_token. */
  secret: string;
  /** Hands one update to the bot (grammY's bot.handleUpdate); rejects when it could not. */
  handle: (update: { update_id: number }) => Promise<void>;
  /** How long an update may take before Telegram is answered anyway (default 8 s). */
  answerWithinMs?: number;
}

const DEFAULT_ANSWER_WITHIN_MS = 8_000;

/** Equal strings, compared in time that does not depend on where they differ (or their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function isUpdate(body: unknown): body is { update_id: number } {
  return (
    typeof body === "object" &&
    body !== null &&
    Number.isSafeInteger((body as { update_id?: unknown }).update_id)
  );
}

export const telegramWebhookRoutes: FastifyPluginAsync<{ deps: TelegramWebhookDeps }> = async (
  app,
  { deps },
) => {
  const answerWithinMs = deps.answerWithinMs ?? DEFAULT_ANSWER_WITHIN_MS;
  app.post(deps.path, async (request, reply) => {
    const header = request.headers["x-telegram-bot-api-secret-token"];
    if (typeof header !== "string" || !sameSecret(header, deps.secret))
      throw new ApiError("invalid_secret_token");
    if (!isUpdate(request.body)) throw new ApiError("invalid_payload", "the body is not a Telegram Update");
    const update = request.body;
    const handling = deps.handle(update);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), answerWithinMs);
    });
    try {
      const outcome = await Promise.race([handling.then(() => "done" as const), late]);
      if (outcome === "late") {
        request.log.warn(
          { updateId: update.update_id, afterMs: answerWithinMs },
          "Telegram update still being handled; answered so that Telegram does not send it again",
        );
        handling.catch((error: unknown) =>
          request.log.error({ err: error, updateId: update.update_id }, "Telegram update failed"),
        );
      }
    } finally {
      clearTimeout(timer);
    }
    return reply.status(200).send("");
  });
};
