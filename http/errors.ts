// Every error the HTTP API answers with: a code for machines, a message for people.
export const API_ERRORS = {
  invalid_json: { status: 400, message: "the body is not valid JSON" },
  empty_body: { status: 400, message: "the body is empty" },
  invalid_payload: { status: 400, message: "the body does not have the expected shape" },
  invalid_query: { status: 400, message: "the query string is not valid" },
  missing_resource_header: { status: 400, message: "the Sentry-Hook-Resource header is missing" },
  missing_delivery_headers: {
    status: 400,
    message: "the Sentry-Hook-Timestamp and Request-ID headers are required",
  },
  stale_delivery: {
    status: 400,
    message: "the Sentry-Hook-Timestamp is outside the accepted window: refused as a replay",
  },
  replayed_delivery: {
    status: 409,
    message: "this Sentry Request-ID was already accepted: refused as a replay",
  },
  missing_credentials: { status: 401, message: "HTTP basic credentials are required" },
  invalid_credentials: { status: 401, message: "the credentials are wrong" },
  missing_token: { status: 401, message: "an Authorization: Bearer token is required" },
  invalid_token: { status: 401, message: "the bearer token is wrong" },
  missing_signature: { status: 401, message: "the Sentry-Hook-Signature header is missing" },
  invalid_signature: { status: 401, message: "the Sentry-Hook-Signature does not match the body" },
  invalid_secret_token: {
    status: 401,
    message: "the X-Telegram-Bot-Api-Secret-Token header is missing or wrong",
  },
  not_found: { status: 404, message: "no such resource" },
  not_configured: { status: 404, message: "this integration is not configured" },
  method_not_allowed: { status: 405, message: "method not allowed" },
  conflict: { status: 409, message: "the resource is not in a state that allows this" },
  too_many_failures: { status: 429, message: "too many failed authentications from this address; wait" },
  body_too_large: { status: 413, message: "the body is larger than this route accepts" },
  unsupported_media_type: { status: 415, message: "the body must be application/json" },
  queue_unavailable: { status: 503, message: "the ingest queue is unavailable; retry later" },
  intake_busy: { status: 503, message: "too many alert bodies are being taken in at once; retry later" },
  internal: { status: 500, message: "internal error" },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    /** More precise text for the client, e.g. which field is wrong. */
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? API_ERRORS[code].message);
    this.status = API_ERRORS[code].status;
  }

  toBody(): { error: { code: ApiErrorCode; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}
