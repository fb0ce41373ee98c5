import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.js";

/** Constant-time comparison; hashing first makes the lengths equal without leaking them. */
function safeEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * A basic-auth checker for one user. This runs on every webhook delivery, so it hashes nothing:
 * the given credentials are written into a buffer as long as the expected ones and compared in
 * constant time, and their length is compared separately, after it. The time taken depends on the
 * lengths of the two (by nanoseconds), never on how much of the secret was matched. UTF-8 is
 * one-to-one, so equal bytes of equal length are the same credentials.
 */
export function basicAuthChecker(user: string, password: string): (header: string | undefined) => void {
  const expected = Buffer.from(Buffer.from(`${user}:${password}`).toString("base64"));
  const given = Buffer.alloc(expected.length);
  return (header) => {
    if (header === undefined || !/^basic /i.test(header)) throw new ApiError("missing_credentials");
    const credentials = header.slice(6).trim();
    given.fill(0);
    given.write(credentials, "utf8");
    const same = timingSafeEqual(given, expected);
    if (!same || Buffer.byteLength(credentials, "utf8") !== expected.length)
      throw new ApiError("invalid_credentials");
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
