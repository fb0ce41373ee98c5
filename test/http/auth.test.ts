// Webhook and API authentication, checked as a function (test/http/app.test.ts checks it through
// the routes): every way a credential can be missing, malformed or wrong, and the right one.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { basicAuthChecker, checkBearer, checkSentrySignature, sentrySignature } from "../../http/auth.js";
import { ApiError } from "../../http/errors.js";

function refusal(check: () => void): string {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).code;
  }
  return "accepted";
}

const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;

describe("basic auth (Alertmanager, Grafana)", () => {
  const check = basicAuthChecker("alertmanager", "s3cret-password");
  it.each([
    ["the right user and password", basic("alertmanager:s3cret-password"), "accepted"],
    [
      "the scheme in lower case",
      `basic ${Buffer.from("alertmanager:s3cret-password").toString("base64")}`,
      "accepted",
    ],
    ["no header", undefined, "missing_credentials"],
    ["a bearer token instead", "Bearer s3cret-password", "missing_credentials"],
    ["the word Basic alone", "Basic", "missing_credentials"],
    ["the wrong password", basic("alertmanager:s3cret-passwore"), "invalid_credentials"],
    ["the wrong user", basic("grafana:s3cret-password"), "invalid_credentials"],
    ["the password's prefix", basic("alertmanager:s3cret"), "invalid_credentials"],
    ["an empty password", basic("alertmanager:"), "invalid_credentials"],
    ["the password in clear", "Basic alertmanager:s3cret-password", "invalid_credentials"],
    ["the credentials and more", `${basic("alertmanager:s3cret-password")}AAAA`, "invalid_credentials"],
    // the expected bytes with one character widened: a narrowing copy would make them equal
    [
      "a character outside ASCII that ends in the right byte",
      `Basic ${Buffer.from("alertmanager:s3cret-password").toString("base64").replace(/^Y/, "\u0159")}`,
      "invalid_credentials",
    ],
  ])("%s → %s", (_name, header, outcome) => {
    expect(refusal(() => check(header))).toBe(outcome);
  });
});

describe("bearer token (the API)", () => {
  const TOKEN = "3f9c2b1e7a4d6f80c5b9e2a1d4c7f6b3";
  it.each([
    ["the token", `Bearer ${TOKEN}`, "accepted"],
    ["the scheme in lower case", `bearer ${TOKEN}`, "accepted"],
    ["no header", undefined, "missing_token"],
    ["basic credentials", basic(`x:${TOKEN}`), "missing_token"],
    ["the scheme alone", "Bearer", "missing_token"],
    ["a wrong token", `Bearer ${TOKEN.slice(0, -1)}0`, "invalid_token"],
    ["the token's prefix", `Bearer ${TOKEN.slice(0, 16)}`, "invalid_token"],
    ["the token with more after it", `Bearer ${TOKEN}x`, "invalid_token"],
    ["an empty token", "Bearer  ", "invalid_token"],
  ])("%s → %s", (_name, header, outcome) => {
    expect(refusal(() => checkBearer(header, TOKEN))).toBe(outcome);
  });
});

describe("Sentry-Hook-Signature", () => {
  const SECRET = "sentry-client-secret-0123";
  const body = Buffer.from('{"action":"created"}');
  const signed = createHmac("sha256", SECRET).update(body).digest("hex");

  it("is the HMAC-SHA256 of the raw body in hex", () => {
    expect(sentrySignature(body, SECRET)).toBe(signed);
  });

  it.each([
    ["the signature", signed, "accepted"],
    ["the signature in upper case", signed.toUpperCase(), "accepted"],
    ["no header", undefined, "missing_signature"],
    ["an empty header", "  ", "missing_signature"],
    [
      "another body's signature",
      createHmac("sha256", SECRET).update("{}").digest("hex"),
      "invalid_signature",
    ],
    [
      "another secret's signature",
      createHmac("sha256", "other").update(body).digest("hex"),
      "invalid_signature",
    ],
    ["a truncated signature", signed.slice(0, 32), "invalid_signature"],
  ])("%s → %s", (_name, header, outcome) => {
    expect(refusal(() => checkSentrySignature(header, body, SECRET))).toBe(outcome);
  });
});
