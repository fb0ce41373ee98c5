import { describe, expect, it } from "vitest";
import { renderDrillDown } from "../../bot/cards/render-drill-down.js";
import { packDrillDownData, unpackDrillDownData } from "../../bot/callback-data/drill-down-data.js";
import type { DrillDownResult } from "../../handlers/incident-drill-down.js";
import { parseTelegramHtml } from "../../dev/emulators/telegram.js";

const incident = {
  id: "INC-20260329-0001",
  severity: "P0" as const,
  title: "<b>API</b> & down",
  status: "open" as const,
};

function found(content: Extract<DrillDownResult, { outcome: "found" }>["content"]): DrillDownResult {
  return { outcome: "found", incident, content };
}

describe("drill-down callback data", () => {
  it("round-trips each section and Done", () => {
    for (const section of [
      "overview",
      "timeline",
      "analysis",
      "kube",
      "similar",
      "playbooks",
      "done",
    ] as const) {
      const packed = packDrillDownData({ section, incidentId: incident.id });
      expect(Buffer.byteLength(packed)).toBeLessThanOrEqual(64);
      expect(unpackDrillDownData(packed)).toEqual({ section, incidentId: incident.id });
    }
  });

  it.each(["dd:secrets:INC-1", "dd:timeline", "v1:details:INC-1", "dd:timeline:INC 1", "dd:timeline:a:b"])(
    "rejects %s",
    (data) => {
      expect(unpackDrillDownData(data)).toBeUndefined();
    },
  );
});

describe("renderDrillDown", () => {
  it("keeps the newest log lines, escaped, within 4096 characters", () => {
    const logs = Array.from({ length: 5_000 }, (_, i) => `line ${i} <tag> & "quote"`).join("\n");
    const text = renderDrillDown(
      found({ section: "kube", configured: true, object: "ns/pod-1", logs, events: [], notes: [] }),
      incident.id,
    );
    expect(text.length).toBeLessThanOrEqual(4096);
    const parsed = parseTelegramHtml(text, { strictAmpersand: true });
    expect(parsed.text).toContain('line 4999 <tag> & "quote"');
    expect(parsed.text).not.toContain("line 0 <tag>");
    expect(parsed.text).toContain("<b>API</b> & down");
  });

  it("drops whole timeline lines rather than overflowing, and says so", () => {
    const events = Array.from({ length: 40 }, (_, i) => ({
      id: i,
      at: new Date("2026-03-29T12:00:00Z"),
      kind: "note",
      actor: "system",
      detail: { text: "<x>&".repeat(200) },
    }));
    const text = renderDrillDown(found({ section: "timeline", events }), incident.id);
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text).toMatch(/… \d+ more line\(s\) not shown$/);
    expect(() => parseTelegramHtml(text, { strictAmpersand: true })).not.toThrow();
  });

  it("says Kubernetes is not configured, and that an incident does not exist", () => {
    expect(renderDrillDown(found({ section: "kube", configured: false }), incident.id)).toContain(
      "Kubernetes is not configured (no KUBECONFIG)",
    );
    expect(renderDrillDown({ outcome: "missing" }, "INC-20260329-0404")).toBe(
      "Incident INC-20260329-0404 does not exist.",
    );
  });

  it("writes the page in BOT_LANGUAGE, dates included", () => {
    const zh = { language: "zh-TW" as const, timeZone: "Asia/Taipei", now: new Date("2026-04-02T00:00:00Z") };
    const text = renderDrillDown(found({ section: "kube", configured: false }), incident.id, zh);
    expect(text).toContain("— 📜 日誌與事件 —");
    expect(text).toContain("未設定 Kubernetes（沒有 KUBECONFIG）");
    const events = [
      { id: 1, at: new Date("2026-03-29T12:00:00Z"), kind: "taken", actor: "@bob", detail: {} },
    ];
    const timeline = renderDrillDown(found({ section: "timeline", events }), incident.id, zh);
    expect(timeline).toContain("🔎 <b>INC-20260329-0001 · 緊急</b>");
    expect(timeline).toContain("3月29日 20:00 GMT+8 · <b>taken</b> · @bob");
  });
});
