// Alertmanager's silences API v2, behind the four methods the bot uses.
import { z } from "zod";
import type { SilenceMatcher } from "../db/silences.js";
import { englishOf, type AlertmanagerSaying } from "../domain/i18n/index.js";

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
  /**
   * The id of a silence Alertmanager holds with exactly these matchers, end and author: how a
   * create whose answer was lost (a timeout, a dropped connection) is recognised afterwards.
   */
  find(silence: {
    matchers: readonly SilenceMatcher[];
    endsAt: Date;
    createdBy: string;
  }): Promise<string | undefined>;
}

export class AlertmanagerError extends Error {
  override readonly name = "AlertmanagerError";

  /** The message in English; `said` keeps its words for the chat to say in BOT_LANGUAGE. */
  constructor(
    readonly said: AlertmanagerSaying,
    readonly status?: number,
  ) {
    super(englishOf("alertmanagerError", said));
  }
}

const CreatedSchema = z.object({ silenceID: z.string().min(1) });
const StateSchema = z.object({ status: z.object({ state: z.enum(["active", "pending", "expired"]) }) });
const ListedSchema = z.array(
  z.object({
    id: z.string(),
    createdBy: z.string(),
    endsAt: z.string(),
    status: z.object({ state: z.string() }),
    matchers: z.array(
      z.object({
        name: z.string(),
        value: z.string(),
        isRegex: z.boolean(),
        isEqual: z.boolean().optional(),
      }),
    ),
  }),
);

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
      throw new AlertmanagerError({ code: "unreachable", error: (error as Error).message });
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
          { code: "refused", status: response.status, answer: text.trim().slice(0, 200) },
          response.status,
        );
      }
      const parsed = CreatedSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new AlertmanagerError({ code: "no_silence_id" });
      return parsed.data.silenceID;
    },
    async find(silence) {
      const response = await call("GET", "/api/v2/silences");
      const text = await response.text();
      if (!response.ok) {
        throw new AlertmanagerError({ code: "not_listed", status: response.status }, response.status);
      }
      const listed = ListedSchema.safeParse(JSON.parse(text));
      if (!listed.success) throw new AlertmanagerError({ code: "unknown_list" });
      const key = (
        matchers: readonly { name: string; value: string; isRegex: boolean; isEqual?: boolean | undefined }[],
      ) =>
        JSON.stringify(
          matchers
            .map((m) => [m.name, m.value, m.isRegex, m.isEqual ?? true])
            .sort(
              (a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])),
            ),
        );
      const wanted = key(silence.matchers);
      return listed.data.find(
        (candidate) =>
          candidate.status.state !== "expired" &&
          candidate.createdBy === silence.createdBy &&
          Date.parse(candidate.endsAt) === silence.endsAt.getTime() &&
          key(candidate.matchers) === wanted,
      )?.id;
    },
    async state(alertmanagerId) {
      const response = await call("GET", `/api/v2/silence/${encodeURIComponent(alertmanagerId)}`);
      const text = await response.text();
      if (response.status === 404) return "expired";
      if (!response.ok) {
        throw new AlertmanagerError(
          {
            code: "no_standing",
            id: alertmanagerId,
            status: response.status,
            answer: text.trim().slice(0, 200),
          },
          response.status,
        );
      }
      const parsed = StateSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new AlertmanagerError({ code: "no_state" });
      return parsed.data.status.state;
    },
    async expire(alertmanagerId) {
      const response = await call("DELETE", `/api/v2/silence/${encodeURIComponent(alertmanagerId)}`);
      const text = await response.text();
      // 404: unknown id; 500 "silence … already expired" on some versions: both mean it is over
      if (response.ok || response.status === 404 || /already expired/i.test(text)) return;
      throw new AlertmanagerError(
        {
          code: "not_expired",
          id: alertmanagerId,
          status: response.status,
          answer: text.trim().slice(0, 200),
        },
        response.status,
      );
    },
  };
}
