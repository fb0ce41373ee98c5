// A real Prometheus Alertmanager (the Debian package) sends a group of 3,000 alerts after a node
// loss to the bot in one notification: the body is over 3 MB, the old 1 MiB limit answered 413
// (which Alertmanager never retries), and now every alert becomes a reachable incident.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Incident } from "../../domain/incident.js";
import { postAlerts, startAlertmanager, type AlertmanagerProcess } from "../../dev/alertmanager.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { startStack, type Stack } from "../../dev/stack.js";

let stack: Stack;
let alertmanager: AlertmanagerProcess;

beforeAll(async () => {
  // Telegram's flood limits lifted: this file is about large groups, not pacing (which
  // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
  stack = await startStack({ telegram: { groupPerMinute: 100_000 } });
  alertmanager = await startAlertmanager({
    webhook: { url: `${stack.url}/api/v1/webhooks/alertmanager`, password: TEST_SECRETS.alertmanager },
    groupBy: ["alertname"],
    // long enough for all 3,000 alerts to join the group before its first notification
    groupWait: "5s",
    groupInterval: "5m",
    repeatInterval: "4h",
  });
});
afterAll(async () => {
  await alertmanager?.stop();
  await stack?.close();
});

async function countIncidents(prefix: string): Promise<number> {
  let count = 0;
  let before: string | null = null;
  for (;;) {
    const query: string = before === null ? "" : `&before=${before}`;
    const response = await fetch(`${stack.url}/api/v1/incidents?limit=500${query}`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.apiToken}` },
    });
    const page = (await response.json()) as { incidents: Incident[]; next: string | null };
    count += page.incidents.filter((incident) => incident.labels.pod?.startsWith(prefix) === true).length;
    if (page.next === null) return count;
    before = page.next;
  }
}

describe("a real Alertmanager's group of 3,000 alerts", () => {
  it("arrives whole and becomes 3,000 incidents", async () => {
    const startsAt = new Date().toISOString();
    const alerts = Array.from({ length: 3_000 }, (_, index) => {
      const pod = `lost-node-app-7d9f8b6c5-${String(index).padStart(5, "0")}`;
      return {
        labels: {
          alertname: "KubePodNotReady",
          job: "kube-state-metrics",
          namespace: "shop",
          pod,
          prometheus: "monitoring/kube-prometheus-stack-prometheus",
          severity: "warning",
        },
        annotations: {
          description: `Pod shop/${pod} has been in a non-ready state for longer than 15 minutes on cluster .`,
          runbook_url: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodnotready",
          summary: "Pod has been in a non-ready state for more than 15 minutes.",
        },
        startsAt,
      };
    });
    await postAlerts(alertmanager.url, alerts);
    const deadline = Date.now() + 600_000;
    let count = 0;
    while (Date.now() < deadline) {
      count = await countIncidents("lost-node-app-");
      if (count === 3_000) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(count).toBe(3_000);
    // one notification carried them all (Alertmanager's own count), and the bot took it
    const metrics = await (await fetch(`${alertmanager.url}/metrics`)).text();
    expect(metrics).toMatch(/^alertmanager_notifications_total\{integration="webhook"\} 1$/m);
    expect(metrics).toMatch(/^alertmanager_notifications_failed_total\{integration="webhook"\} 0$/m);
    const received = await stack.runtime.metrics.alertsReceived.get();
    expect(received.values.find((value) => value.labels.source === "alertmanager")?.value).toBe(3_000);
    expect(alertmanager.output()).not.toMatch(/413|Request Entity Too Large/);
  }, 700_000);
});
