// TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET: webhook mode needs both, the secret is one
// Telegram can send back in its header, and the example's placeholder is refused like the others.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../registry/config.js";
import { testEnv } from "../../dev/env.js";

const SECRET = "0123456789abcdef0123456789abcdef";

function problem(env: Record<string, string | undefined>): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("Telegram webhook settings", () => {
  it("leaves long polling on when neither is set", () => {
    expect(parseConfig(testEnv()).telegram.webhook).toBeUndefined();
  });

  it("turns webhook mode on with both", () => {
    const config = parseConfig(
      testEnv({
        TELEGRAM_WEBHOOK_URL: "https://bot.example.org/telegram/hook",
        TELEGRAM_WEBHOOK_SECRET: SECRET,
      }),
    );
    expect(config.telegram.webhook).toEqual({ url: "https://bot.example.org/telegram/hook", secret: SECRET });
  });

  it("refuses one without the other", () => {
    expect(problem(testEnv({ TELEGRAM_WEBHOOK_URL: "https://bot.example.org/hook" }))).toContain(
      "TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL",
    );
    expect(problem(testEnv({ TELEGRAM_WEBHOOK_SECRET: SECRET }))).toContain(
      "TELEGRAM_WEBHOOK_URL is required with TELEGRAM_WEBHOOK_SECRET",
    );
  });

  it("refuses a secret Telegram cannot send, a short one, and never echoes it", () => {
    const url = "https://bot.example.org/hook";
    const spaced = "has spaces in it and is long";
    const message = problem(testEnv({ TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: spaced }));
    expect(message).toContain("TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and -");
    expect(message).not.toContain(spaced);
    expect(problem(testEnv({ TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: "abc123" }))).toContain(
      "TELEGRAM_WEBHOOK_SECRET must be at least 16 characters",
    );
  });

  it("refuses the placeholder published in .env.example", () => {
    const line = readFileSync(new URL("../../.env.example", import.meta.url), "utf8")
      .split("\n")
      .find((text) => text.startsWith("# TELEGRAM_WEBHOOK_SECRET="));
    const example = line?.slice(line.indexOf("=") + 1) ?? "";
    expect(example).not.toBe("");
    expect(
      problem(
        testEnv({ TELEGRAM_WEBHOOK_URL: "https://bot.example.org/hook", TELEGRAM_WEBHOOK_SECRET: example }),
      ),
    ).toContain("TELEGRAM_WEBHOOK_SECRET is a placeholder, not a secret");
  });
});
