import { describe, expect, it } from "vitest";
import { REDACTED, redactDeep, redactSecrets } from "../../ai/redact.js";

describe("redactSecrets", () => {
  it.each([
    ["bearer token", "GET /x Authorization: Bearer eyJhbGciOi.abc-def_123", "eyJhbGciOi"],
    ["basic auth header", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"],
    ["password in a URL", "connect postgres://app:hunter2@db:5432/app failed", "hunter2"],
    ["password with @ in a URL", "redis://default:p@ss@redis:6379/0", "p@ss"],
    ["password= pair", "login user=bob password=hunter2 ok", "hunter2"],
    ["token: pair", "refresh token: 9f8e7d6c5b4a", "9f8e7d6c5b4a"],
    ["api_key in a query", "GET /v1?api_key=abcd1234&q=1", "abcd1234"],
    ["AWS secret pair", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"],
    ["AWS access key id", "using AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE"],
    [
      "JWT",
      "cookie=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "dozjgNryP4J3jVmNHl0w5N",
    ],
    [
      "PEM private key",
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----",
      "MIIEpAIBAAKCAQEA7",
    ],
    [
      "Telegram bot token in a Bot API URL",
      "POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/sendMessage",
      "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
    ],
    ["ADO connection string", "Server=db;User Id=sa;Password=Sup3r;Database=app", "Sup3r"],
    ["JSON secret field", '{"user":"bob","password":"hunter 2"}', "hunter 2"],
    ["Anthropic key", "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", "sk-ant-api03"],
    ["Google key", "key AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890"],
  ])("removes a %s", (_name, input, secret) => {
    const output = redactSecrets(input);
    expect(output).not.toContain(secret);
    expect(output).toContain("[REDACTED");
  });

  it("keeps the non-secret parts readable", () => {
    expect(redactSecrets("postgres://app:hunter2@db:5432/app")).toBe(
      `postgres://app:${REDACTED}@db:5432/app`,
    );
    expect(redactSecrets("Authorization: Bearer abcdefghijkl")).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets("password=hunter2; user=bob")).toBe(`password=${REDACTED}; user=bob`);
  });

  it("leaves ordinary log lines alone", () => {
    const line = "2026-03-29T10:00:05Z ERROR 502 from upstream http://api:8080/v1/health took 1234ms";
    expect(redactSecrets(line)).toBe(line);
    expect(redactSecrets("Basic authentication is disabled")).toBe("Basic authentication is disabled");
  });

  it("is idempotent", () => {
    const once = redactSecrets("token=abc123456 postgres://a:b@c/d Bearer abcdefghijk");
    expect(redactSecrets(once)).toBe(once);
  });
});

describe("redactDeep", () => {
  it("redacts strings at any depth and the values of secret-named keys", () => {
    const value = {
      labels: { db_password: "plain", url: "redis://:pw123456@r:6379" },
      list: ["token=zzz999999"],
    };
    expect(redactDeep(value)).toEqual({
      labels: { db_password: REDACTED, url: `redis://:${REDACTED}@r:6379` },
      list: [`token=${REDACTED}`],
    });
  });
});
