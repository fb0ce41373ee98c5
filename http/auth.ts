import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.js";

/** Constant-time comparison; hashing first makes the lengths equal without leaking them. */
function safeEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function checkBasicAuth(header: string | undefined, user: string, password: string): void {
  if (header === undefined || !/^basic /i.test(header)) throw new ApiError("missing_credentials");
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const given =
    colon < 0
      ? { user: decoded, password: "" }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  // Both halves are always compared.
  const userOk = safeEqual(given.user, user);
  const passwordOk = safeEqual(given.password, password);
  if (!userOk || !passwordOk) throw new ApiError("invalid_credentials");
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
