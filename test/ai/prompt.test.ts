// What the models are asked about language: cause and reasoning in BOT_LANGUAGE, so a model's
// analysis reads like the rest of the card.
import { describe, expect, it } from "vitest";
import { buildPrompt } from "../../ai/prompt.js";
import { AnalysisContextSchema } from "../../domain/analysis-context.js";
import { scopeFromContext } from "../../domain/scope.js";

const context = AnalysisContextSchema.parse({
  source: "alertmanager",
  title: "PodCrashLoopBackOff",
  labels: { alertname: "PodCrashLoopBackOff", namespace: "awoooi-prod", pod: "awoooi-api-1" },
});
const system = (language?: "en" | "zh-TW") =>
  buildPrompt(context, scopeFromContext(context), {
    nonce: "0000000000000000",
    ...(language === undefined ? {} : { language }),
  }).system;

describe("buildPrompt", () => {
  it("asks for cause and reasoning in English by default", () => {
    expect(system()).toContain("Write cause and reasoning in English");
    expect(system("en")).toBe(system());
  });

  it("asks for them in Traditional Chinese when BOT_LANGUAGE is zh-TW", () => {
    expect(system("zh-TW")).toContain("Write cause and reasoning in Traditional Chinese (繁體中文, Taiwan)");
    expect(system("zh-TW")).not.toContain("in English");
  });
});
