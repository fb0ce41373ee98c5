import { describe, expect, it } from "vitest";
import { silenceMatches, type SilenceMatcher } from "../../db/silences.js";
import { messagesFor } from "../../domain/i18n/index.js";
import {
  formatDuration,
  formatMatcher,
  incidentMatchers,
  matchersProblem,
  parseDuration,
  parseMatcher,
  parseSilenceArgs,
} from "../../handlers/silence-matchers.js";

const eq = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: true });

describe("parseDuration", () => {
  it.each([
    ["30m", 30 * 60_000],
    ["2h", 2 * 3_600_000],
    ["1d", 24 * 3_600_000],
    ["1h30m", 90 * 60_000],
    ["2H", 2 * 3_600_000],
  ])("reads %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "2", "h", "0m", "2 h", "-1h", "1w", "soon"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("writes durations back the same way", () => {
    expect(formatDuration(90 * 60_000)).toBe("1h30m");
    expect(formatDuration(7 * 24 * 3_600_000)).toBe("7d");
  });
});

describe("parseMatcher", () => {
  it.each([
    ["service=awoooi-api", { name: "service", value: "awoooi-api", isRegex: false, isEqual: true }],
    ["service!=awoooi-api", { name: "service", value: "awoooi-api", isRegex: false, isEqual: false }],
    ["env=~prod.*", { name: "env", value: "prod.*", isRegex: true, isEqual: true }],
    ["env!~dev|test", { name: "env", value: "dev|test", isRegex: true, isEqual: false }],
    ['team="sre"', { name: "team", value: "sre", isRegex: false, isEqual: true }],
  ])("reads %s and writes it back", (word, matcher) => {
    expect(parseMatcher(word)).toEqual(matcher);
    expect(formatMatcher(matcher)).toBe(word.replace(/"/g, ""));
  });

  it.each(["service", "=x", "1abc=x", "env=~(unclosed"])("refuses %j", (word) => {
    expect(parseMatcher(word)).toBeUndefined();
  });
});

describe("parseSilenceArgs", () => {
  it("reads matchers, then a duration, then the rest as the reason", () => {
    expect(parseSilenceArgs("service=awoooi-api env=~prod.* 2h deploy in progress")).toEqual({
      matchers: [eq("service", "awoooi-api"), { name: "env", value: "prod.*", isRegex: true, isEqual: true }],
      durationMs: 2 * 3_600_000,
      reason: "deploy in progress",
    });
  });

  it("leaves out what was not given, for the dialogue to ask", () => {
    expect(parseSilenceArgs("")).toEqual({ matchers: [] });
    expect(parseSilenceArgs("service=api")).toEqual({ matchers: [eq("service", "api")] });
    expect(parseSilenceArgs("2h")).toEqual({ matchers: [], durationMs: 2 * 3_600_000 });
  });

  it("names a word that is neither a matcher nor a duration", () => {
    expect(parseSilenceArgs("service=api soon").problem).toContain('"soon" is neither');
  });

  it("says the problem in the chat's language", () => {
    expect(parseSilenceArgs("service=api soon", messagesFor("zh-TW")).problem).toBe(
      "「soon」既不是標籤比對條件（k=v、k=~re、k!=v），也不是時長（30m、2h、1d）",
    );
  });
});

describe("matchersProblem", () => {
  it("says the problem in the chat's language", () => {
    const zh = messagesFor("zh-TW");
    expect(matchersProblem([], zh)).toBe(zh.silences.problems.noMatcher);
    expect(matchersProblem([{ name: "x", value: ".*", isRegex: true, isEqual: true }], zh)).toContain(
      "靜默所有告警",
    );
  });

  it("refuses no matchers, and matchers that all match the empty string", () => {
    expect(matchersProblem([])).toContain("at least one");
    expect(matchersProblem([{ name: "x", value: ".*", isRegex: true, isEqual: true }])).toContain(
      "everything",
    );
    expect(matchersProblem([{ name: "x", value: "a", isRegex: false, isEqual: false }])).toContain(
      "everything",
    );
  });

  it("accepts one selective matcher", () => {
    expect(
      matchersProblem([eq("service", "api"), { name: "x", value: ".*", isRegex: true, isEqual: true }]),
    ).toBe(undefined);
  });
});

describe("incidentMatchers", () => {
  it("picks alertname and the workload's labels, never severity or the pod", () => {
    const labels = {
      alertname: "AWOOOIAPIDown",
      severity: "critical",
      namespace: "awoooi-prod",
      service: "awoooi-api",
      deployment: "awoooi-api",
      pod: "awoooi-api-7d4b8c9f5-abc12",
      job: "awoooi-api",
    };
    expect(incidentMatchers(labels, "awoooi-api").map(formatMatcher)).toEqual([
      "alertname=AWOOOIAPIDown",
      "namespace=awoooi-prod",
      "service=awoooi-api",
      "deployment=awoooi-api",
      "job=awoooi-api",
    ]);
  });

  it("keeps a host exporter's instance, but not a pod's address, which changes with the pod", () => {
    expect(
      incidentMatchers({ alertname: "HostHighCPU", job: "node", instance: "node1:9100" }, null).map(
        formatMatcher,
      ),
    ).toEqual(["alertname=HostHighCPU", "job=node", "instance=node1:9100"]);
    expect(
      incidentMatchers(
        {
          alertname: "HighErrorRate",
          namespace: "awoooi-prod",
          deployment: "awoooi-api",
          pod: "awoooi-api-7d4b8c9f5-abc12",
          instance: "10.42.0.17:8080",
        },
        null,
      ).map(formatMatcher),
    ).toEqual(["alertname=HighErrorRate", "namespace=awoooi-prod", "deployment=awoooi-api"]);
  });

  it("falls back to every stable label, then to the service", () => {
    expect(
      incidentMatchers({ project: "web", level: "error", severity: "high" }, "web").map(formatMatcher),
    ).toEqual(["level=error", "project=web"]);
    expect(incidentMatchers({ severity: "critical" }, "web").map(formatMatcher)).toEqual(["service=web"]);
  });
});

describe("silenceMatches", () => {
  const labels = { alertname: "ApiDown", service: "awoooi-api", env: "prod-eu" };

  it("needs every matcher to hold, with anchored regexes like Alertmanager", () => {
    expect(
      silenceMatches(
        [eq("service", "awoooi-api"), { name: "env", value: "prod.*", isRegex: true, isEqual: true }],
        labels,
      ),
    ).toBe(true);
    expect(silenceMatches([{ name: "env", value: "prod", isRegex: true, isEqual: true }], labels)).toBe(
      false,
    );
    expect(silenceMatches([eq("service", "awoooi-api"), eq("alertname", "Other")], labels)).toBe(false);
  });

  it("treats a missing label as empty and negative matchers as negations", () => {
    expect(silenceMatches([{ name: "team", value: "sre", isRegex: false, isEqual: false }], labels)).toBe(
      true,
    );
    expect(
      silenceMatches([{ name: "service", value: "awoooi-.*", isRegex: true, isEqual: false }], labels),
    ).toBe(false);
  });

  it("matches nothing with no matchers", () => {
    expect(silenceMatches([], labels)).toBe(false);
  });
});
