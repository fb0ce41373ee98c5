// Alertmanager's silences API v2, behind the three methods the bot uses.
import { z } from "zod";
import type { SilenceMatcher } from "../db/silences.js";

export interface SilencesGateway {
  /** Creates the silence in Alertmanager; resolves with Alertmanager's silence id. */
  create(silence: {
    matchers: readonly SilenceMatcher[];
    startsAt: Date;
    endsAt: Date;
    createdBy: string;
    comment: string;
  }): Promise<string>;
  /** Expires it now; an id Alertmanager no longer knows counts as expired. */
  expire(alertmanagerId: string): Promise<void>;
  /** Whether Alertmanager still applies it: "active" or "pending", else "expired" (also when unknown). */
  state(alertmanagerId: string): Promise<"active" | "pending" | "expired">;
}

export class AlertmanagerError extends Error {
  override readonly name = "AlertmanagerError";

  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const CreatedSchema = z.object({ silenceID: z.string().min(1) });
const StateSchema = z.object({ status: z.object({ state: z.enum(["active", "pending", "expired"]) }) });

const TIMEOUT_MS = 10_000;

export function alertmanagerSilences(baseUrl: string, fetchImpl: typeof fetch = fetch): SilencesGateway {
  const root = baseUrl.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    try {
      return await fetchImpl(`${root}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new AlertmanagerError(`Alertmanager unreachable: ${(error as Error).message}`);
    }
  };
  return {
    async create(silence) {
      const response = await call("POST", "/api/v2/silences", {
        matchers: silence.matchers,
        startsAt: silence.startsAt.toISOString(),
        endsAt: silence.endsAt.toISOString(),
        createdBy: silence.createdBy,
        comment: silence.comment,
      });
      const text = await response.text();
      if (!response.ok) {
        throw new AlertmanagerError(
          `Alertmanager refused the silence (${response.status}): ${text.trim().slice(0, 200)}`,
          response.status,
        );
      }
      const parsed = CreatedSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new AlertmanagerError("Alertmanager answered without a silence id");
      return parsed.data.silenceID;
    },
    async state(alertmanagerId) {
      const response = await call("GET", `/api/v2/silence/${encodeURIComponent(alertmanagerId)}`);
      const text = await response.text();
      if (response.status === 404) return "expired";
      if (!response.ok) {
        throw new AlertmanagerError(
          `Alertmanager did not say how ${alertmanagerId} stands (${response.status}): ${text.trim().slice(0, 200)}`,
          response.status,
        );
      }
      const parsed = StateSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new AlertmanagerError("Alertmanager answered without a silence state");
      return parsed.data.status.state;
    },
    async expire(alertmanagerId) {
      const response = await call("DELETE", `/api/v2/silence/${encodeURIComponent(alertmanagerId)}`);
      const text = await response.text();
      // 404: unknown id; 500 "silence … already expired" on some versions: both mean it is over
      if (response.ok || response.status === 404 || /already expired/i.test(text)) return;
      throw new AlertmanagerError(
        `Alertmanager refused to expire ${alertmanagerId} (${response.status}): ${text.trim().slice(0, 200)}`,
        response.status,
      );
    },
  };
}
