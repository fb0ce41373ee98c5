// Request bodies for the bench: the same alerts, once as the Alertmanager webhook (version 4) the bot
// receives, once as the API v2 `POST /api/v2/alerts` body Prometheus sends to Alertmanager, so both
// servers are compared on the same alerts.
import type { AlertmanagerPayload } from "../handlers/sources/alertmanager.js";
import { alertmanagerPayload } from "../dev/alerts.js";
import { TEST_SECRETS } from "../dev/env.js";

export const WEBHOOK_PATH = "/api/v1/webhooks/alertmanager";
export const ALERTMANAGER_ALERTS_PATH = "/api/v2/alerts";

export const JSON_HEADERS = { "content-type": "application/json" } as const;

export const BOT_HEADERS = {
  ...JSON_HEADERS,
  authorization: `Basic ${Buffer.from(`alertmanager:${TEST_SECRETS.alertmanager}`).toString("base64")}`,
} as const;

/** The bot's webhook body with `count` alerts (one alert when `count` is undefined). */
export function webhookBody(count?: number): AlertmanagerPayload {
  return alertmanagerPayload(count === undefined ? {} : { count });
}

/** One API v2 alert per webhook alert. */
export function alertmanagerV2Body(payload: AlertmanagerPayload): unknown[] {
  return payload.alerts.map((alert) => ({
    labels: alert.labels,
    annotations: alert.annotations,
    ...(alert.startsAt === undefined ? {} : { startsAt: alert.startsAt }),
    // Alertmanager's webhook writes the zero time for "not set"; the API wants the field left out,
    // and then resolves the alert after resolve_timeout unless it is sent again.
    ...(alert.endsAt === undefined || alert.endsAt.startsWith("0001-") ? {} : { endsAt: alert.endsAt }),
    ...(alert.generatorURL === undefined ? {} : { generatorURL: alert.generatorURL }),
  }));
}

/**
 * A single-alert webhook body whose fingerprint autocannon replaces per request (`[<id>]`), so the
 * steady-rate phase sends distinct alerts rather than one alert over and over.
 */
export function distinctWebhookBodyTemplate(): string {
  return JSON.stringify(alertmanagerPayload({ fingerprint: "bench-ack-[<id>]" }));
}

/** One alert that opens a new incident: its alertname is unique so the card can be found in the chat. */
export function uniqueAlert(alertname: string): AlertmanagerPayload {
  return alertmanagerPayload({ fingerprint: `bench-${alertname}`, labels: { alertname } });
}
