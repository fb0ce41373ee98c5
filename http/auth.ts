import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.js";

/** Constant-time comparison; hashing first makes the lengths equal without leaking them. */
function safeEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * A basic-auth checker for one user. The expected header's digest is computed once, so each
 * request costs one hash (this runs on every webhook delivery).
 */
export function basicAuthChecker(user: string, password: string): (header: string | undefined) => void {
  const expected = createHash("sha256")
    .update(Buffer.from(`${user}:${password}`).toString("base64"))
    .digest();
  return (header) => {
    if (header === undefined || !/^basic /i.test(header)) throw new ApiError("missing_credentials");
    const given = createHash("sha256").update(header.slice(6).trim()).digest();
    if (!timingSafeEqual(given, expected)) throw new ApiError("invalid_credentials");
  };
}

export function checkBearer(header: string | undefined, token: string): void {
  if (header === undefined || !/^bearer /i.test(header)) throw new ApiError("missing_token");
  if (!safeEqual(header.slice(7).trim(), token)) throw new ApiError("invalid_token");
}

export function sentrySignature(rawBody: Buffer, secret: string): string {
  return createHmac("sha256", secret).update(rawBody).digest("hex");
}

export function checkSentrySignature(header: string | undefined, rawBody: Buffer, secret: string): void {
  if (header === undefined || header.trim() === "") throw new ApiError("missing_signature");
  if (!safeEqual(header.trim().toLowerCase(), sentrySignature(rawBody, secret)))
    throw new ApiError("invalid_signature");
}
