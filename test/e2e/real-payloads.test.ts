// Every payload of the real-world corpus (test/fixtures/real/, each file names its source) sent
// through the real HTTP route of a running bot, then read back through /api/v1/incidents and the
// Telegram card: title, service, subject (the card's target line), severity, links and status.
// The table below is this project's reading of each payload; the files' own `expect` blocks are
// the collector's reading in words, which it follows (see the README there).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Incident } from "../../domain/incident.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { alertmanagerAuth, sentryHeaders, startStack, type Stack } from "../../dev/stack.js";

interface Fixture {
  source: string;
  route: "alertmanager" | "grafana" | "sentry";
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}

interface Expected {
  fingerprint: string;
  title: string;
  service: string | null;
  /** The card's target line without its emoji: "Pod: kasten-io/create-repo-lx6jl". */
  target: string | null;
  severity: "P0" | "P1" | "P2";
  links: string[];
  status: "firing" | "resolved";
  /** The card's "Closed, no action needed: …" note. */
  closedNote?: string;
}

type Outcome =
  | { kind: "incidents"; incidents: Expected[] }
  /** Accepted (202), and pages nobody: no incident. */
  | { kind: "skipped"; heartbeats: number; informational: number; fingerprints: string[] }
  /** Not an alert: 200 "ignored". */
  | { kind: "ignored" };

interface Case {
  file: string;
  /** A delivery sent first (the firing counterpart of a resolution), derived from the fixture. */
  before?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** The incident must be the same row another case opened (a reopening, not a new incident). */
  sameIncidentAs?: string;
  outcome: Outcome;
}

const GRAFANA_AUTH = {
  authorization: `Basic ${Buffer.from(`grafana:${TEST_SECRETS.alertmanager}`).toString("base64")}`,
};

const load = (file: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../fixtures/real/${file}`, import.meta.url), "utf8")) as Fixture;

/** The same group with every alert firing (Alertmanager sends "0001-…" as endsAt of a firing alert). */
function firingGroup(body: Record<string, unknown>): Record<string, unknown> {
  const alerts = body.alerts as Record<string, unknown>[];
  return {
    ...body,
    status: "firing",
    alerts: alerts.map((alert) => ({ ...alert, status: "firing", endsAt: "0001-01-01T00:00:00Z" })),
  };
}
const withAction = (action: string) => (body: Record<string, unknown>) => ({ ...body, action });

const PROM = "http://prometheus.gavriliu.com/graph?g0.expr=";
const RUNBOOK = "https://runbooks.prometheus-operator.dev/runbooks/";
const promLink = (file: string, index = 0): string =>
  ((load(file).body.alerts as { generatorURL: string }[])[index] as { generatorURL: string }).generatorURL;

const ZULIP_ISSUE = {
  fingerprint: "1638821441",
  title: "Exception: program has entered an invalid state.",
  service: "zulip-integration-testing",
  target: "Sentry issue: ZULIP-INTEGRATION-TESTING-E",
  severity: "P1",
  links: [],
} as const;

const CASES: Case[] = [
  // ── Alertmanager v4: kube-prometheus / kubernetes-mixin ──
  {
    file: "alertmanager/kube-pod-crash-looping.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "8641979da9595b4a",
          title: "KubePodCrashLooping",
          service: "umami",
          target: "Pod: umami/umami-76c68cfb84-ljgtd",
          severity: "P2",
          links: [
            promLink("alertmanager/kube-pod-crash-looping.json"),
            `${RUNBOOK}kubernetes/kubepodcrashlooping`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/kube-pod-not-ready.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "07e32fa223a4dc34",
          title: "KubePodNotReady",
          service: "metering-svc",
          target: "Pod: kasten-io/metering-svc-9dc999d6f-z8wnf",
          severity: "P2",
          links: [promLink("alertmanager/kube-pod-not-ready.json"), `${RUNBOOK}kubernetes/kubepodnotready`],
          status: "firing",
        },
      ],
    },
  },
  {
    // pod/container name the kube-state-metrics exporter: the subject is the deployment label
    file: "alertmanager/kube-deployment-replicas-mismatch.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "ee9e02e75321033f",
          title: "KubeDeploymentReplicasMismatch",
          service: "fints-importer",
          target: "Deployment: firefly-iii/fints-importer",
          severity: "P2",
          links: [
            promLink("alertmanager/kube-deployment-replicas-mismatch.json"),
            `${RUNBOOK}kubernetes/kubedeploymentreplicasmismatch`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/kube-statefulset-replicas-mismatch.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "bac8266f34cbaef9",
          title: "KubeStatefulSetReplicasMismatch",
          service: "netbox-valkey-primary",
          target: "StatefulSet: netbox/netbox-valkey-primary",
          severity: "P2",
          links: [
            promLink("alertmanager/kube-statefulset-replicas-mismatch.json"),
            `${RUNBOOK}kubernetes/kubestatefulsetreplicasmismatch`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/kube-daemonset-rollout-stuck.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "32fdcc462509b3bc",
          title: "KubeDaemonSetRolloutStuck",
          service: "kube-prometheus-stack-prometheus-node-exporter",
          target: "DaemonSet: kube-prometheus-stack/kube-prometheus-stack-prometheus-node-exporter",
          severity: "P2",
          links: [
            promLink("alertmanager/kube-daemonset-rollout-stuck.json"),
            `${RUNBOOK}kubernetes/kubedaemonsetrolloutstuck`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    // job_name is the subject (a CronJob's Job), job is the exporter
    file: "alertmanager/kube-job-failed.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "9c33aaa584277953",
          title: "KubeJobFailed",
          service: "cronjob-account-02",
          target: "Job: firefly-iii/cronjob-account-02-29177885",
          severity: "P2",
          links: [
            `${PROM}kube_job_failed%7Bjob%3D%22kube-state-metrics%22%7D+%3E+0&g0.tab=1`,
            `${RUNBOOK}kubernetes/kubejobfailed`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    // the issue's own example: service was "kube-state-metrics", the suggestion its Deployment
    file: "alertmanager/kube-job-completion.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "f3f93532aa2e04cf",
          title: "KubeJobCompletion",
          service: "email-tracking-perform-initialization",
          target: "Job: default/email-tracking-perform-initialization-1.0.50",
          severity: "P2",
          links: [
            promLink("alertmanager/kube-job-completion.json"),
            "https://github.com/kubernetes-monitoring/kubernetes-mixin/tree/master/runbook.md#alert-name-kubejobcompletion",
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/kube-persistent-volume-filling-up.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "0e9e12d5d92b715c",
          title: "KubePersistentVolumeFillingUp",
          service: "homeassistant",
          target: "PersistentVolumeClaim: homeassistant/homeassistant",
          severity: "P2",
          links: [
            promLink("alertmanager/kube-persistent-volume-filling-up.json"),
            `${RUNBOOK}kubernetes/kubepersistentvolumefillingup`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    // namespace/pod are the exporter's: the subject is the node, cluster-scoped
    file: "alertmanager/kube-node-not-ready.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "e16be7bc54d3170e",
          title: "KubeNodeNotReady",
          service: null,
          target: "Node: hive-04",
          severity: "P2",
          links: [promLink("alertmanager/kube-node-not-ready.json"), `${RUNBOOK}kubernetes/kubenodenotready`],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/kube-container-waiting.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "b8e25fec04976741",
          title: "KubeContainerWaiting",
          service: "create-repo",
          target: "Pod: kasten-io/create-repo-lx6jl",
          severity: "P2",
          links: [
            promLink("alertmanager/kube-container-waiting.json"),
            `${RUNBOOK}kubernetes/kubecontainerwaiting`,
          ],
          status: "firing",
        },
      ],
    },
  },
  // ── node-exporter ──
  {
    file: "alertmanager/node-filesystem-space-filling-up.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "82c1c19e4fd32c21",
          title: "NodeFilesystemSpaceFillingUp",
          service: null,
          target: "Host: 10.0.0.31",
          severity: "P2",
          links: [
            promLink("alertmanager/node-filesystem-space-filling-up.json"),
            `${RUNBOOK}node/nodefilesystemspacefillingup`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/node-filesystem-space-filling-up-external-host.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "92b33eb65e70f2dc",
          title: "NodeFilesystemSpaceFillingUp",
          service: null,
          target: "Host: 10.0.0.10",
          severity: "P2",
          links: [
            promLink("alertmanager/node-filesystem-space-filling-up-external-host.json"),
            `${RUNBOOK}node/nodefilesystemspacefillingup`,
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/node-memory-high-utilization.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "a43dd7827e91ded5",
          title: "NodeMemoryHighUtilization",
          service: null,
          target: "Host: 10.0.0.34",
          severity: "P2",
          links: [
            promLink("alertmanager/node-memory-high-utilization.json"),
            `${RUNBOOK}node/nodememoryhighutilization`,
          ],
          status: "firing",
        },
      ],
    },
  },
  // ── blackbox: the probed target, never the blackbox job ──
  {
    file: "alertmanager/blackbox-probe-failed-http.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "761d32a92b525a78",
          title: "BlackboxProbeFailed",
          service: null,
          target: "URL: https://prometheus.io",
          severity: "P0",
          links: ["http://localhost:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1"],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "alertmanager/blackbox-icmp-probe-failed.json",
    outcome: {
      kind: "incidents",
      incidents: ["3c3057a210093dda", "1ed159870825489b", "09596c27b4a4e24f"].map((fingerprint, index) => ({
        fingerprint,
        title: "ICMP ping failed",
        service: null,
        target: `Host: 172.29.254.${["30", "50", "66"][index]}`,
        // "major"
        severity: "P1" as const,
        links: [
          "http://9ed35ff90bf8:9090/graph?g0.expr=probe_success%7Bjob%3D%22blackbox-icmp%22%7D+%3D%3D+0&g0.tab=1",
        ],
        status: "firing" as const,
      })),
    },
  },
  // ── Grafana's own Alertmanager (version 4), from Grafana OnCall's tests ──
  {
    file: "alertmanager/grafana-alertmanager-instance-down.json",
    outcome: {
      kind: "incidents",
      incidents: ["f404ecabc8dd5cd7", "f8f08d4e32c61a9d", "39f38c0611ee7abd"].map((fingerprint, index) => ({
        fingerprint,
        title: "InstanceDown",
        service: "node",
        target: `Instance: localhost:808${index + 1}`,
        severity: "P0" as const,
        links: [],
        status: "firing" as const,
      })),
    },
  },
  {
    // a kube_deployment_* alert scraped by eric-pm-kube-state-metrics: the subject is eric-log-transformer
    file: "alertmanager/resolved-deployment.json",
    before: firingGroup,
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "fbab788ec4c1018b",
          title: "Deployment",
          service: "eric-log-transformer",
          target: "Deployment: eric-eo-cm-ci406/eric-log-transformer",
          severity: "P2",
          // the generatorURL is relative (/metrics/viewer/graph?…): no link can be made of it
          links: [],
          status: "resolved",
        },
      ],
    },
  },
  // ── heartbeats and info: page nobody ──
  {
    file: "alertmanager/watchdog-kube-prometheus.json",
    outcome: { kind: "skipped", heartbeats: 1, informational: 0, fingerprints: ["972f3dc166677cf2"] },
  },
  {
    file: "alertmanager/watchdog-openshift.json",
    outcome: { kind: "skipped", heartbeats: 1, informational: 0, fingerprints: ["6934731368443c07"] },
  },
  {
    file: "alertmanager/info-inhibitor.json",
    outcome: { kind: "skipped", heartbeats: 0, informational: 1, fingerprints: ["9019b79b5bbc204b"] },
  },
  // ── Grafana-managed alerting, webhook contact point version "1" ──
  {
    file: "grafana/firing-values-v11.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "e6349a25f5ef0e9e",
          title: "Memory (copy)",
          // only Grafana's valueString names the subject: instance node_exporter:9100 of job node
          service: "node",
          target: "Instance: node_exporter:9100",
          severity: "P2",
          links: [
            "https://play.grafana.org/alerting/grafana/dd2f0260-3cfc-4c65-a4c4-f3f632c551f4/view?orgId=1",
            "https://play.grafana.org/d/ece9fb32-7f71-4be9-bd94-2f23608ae5b9?orgId=1",
            "https://play.grafana.org/d/ece9fb32-7f71-4be9-bd94-2f23608ae5b9?orgId=1&viewPanel=2",
            "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DMemory+%28copy%29&matcher=debug%3Dtrue&matcher=grafana_folder%3Ddevice&orgId=1",
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "grafana/firing.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "c6eadffa33fcdf37",
          title: "High memory usage",
          service: null,
          target: null,
          severity: "P2",
          links: [
            "https://play.grafana.org/alerting/1afz29v7z/edit",
            "https://myrunbook.com/runbook/1234",
            "silence",
          ],
          status: "firing",
        },
        {
          fingerprint: "bc97ff14869b13e3",
          title: "High CPU usage",
          service: null,
          target: null,
          severity: "P2",
          links: [
            "https://play.grafana.org/alerting/d1rdpdv7k/edit",
            "https://myrunbook.com/runbook/1234",
            "silence",
          ],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "grafana/mixed-firing-and-resolved.json",
    before: firingGroup,
    outcome: {
      kind: "incidents",
      incidents: [
        [
          "aaafafe0953f0962",
          "Test alert",
          "rabbitmq",
          "badhost.example.com",
          "zTjxv_C7k",
          "resolved",
        ] as const,
        [
          "fb31814ac93dbe7d",
          "Test alert",
          "rabbitmq",
          "otherhost.example.com",
          "zTjxv_C7k",
          "resolved",
        ] as const,
        [
          "6f9cd313db421ef1",
          "Second webhook test",
          // job "camo" is no exporter and nothing else names a service: the job is the service
          "camo",
          "sadhost.example.com",
          "_0rkK_C7z",
          "firing",
        ] as const,
      ].map(([fingerprint, title, service, host, rule, status]) => ({
        fingerprint,
        title,
        service,
        target: `Instance: ${host}`,
        severity: "P2" as const,
        links: [
          `https://grafana.example.com/alerting/grafana/${rule}/view`,
          "https://example.com/",
          "silence",
        ],
        status,
      })),
    },
  },
  {
    file: "grafana/resolved.json",
    before: firingGroup,
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "d8a21484c9c25a60",
          title: "Test alert",
          service: "rabbitmq",
          target: "Instance: otherhost.example.com",
          severity: "P2",
          links: [
            "https://grafana.example.com/alerting/grafana/zTjxv_C7k/view",
            "https://example.com/",
            "silence",
          ],
          status: "resolved",
        },
      ],
    },
  },
  // ── Sentry integration platform ──
  {
    file: "sentry/issue-created.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "1170820242",
          title: "ReferenceError: blooopy is not defined",
          service: "front-end",
          target: "Sentry issue: FRONT-END-9",
          severity: "P1",
          // issue.created carried no URL before June 2025 (getsentry/sentry#93780)
          links: [],
          status: "firing",
        },
      ],
    },
  },
  {
    // the same issue's error event: a repeat, now with the issue's human page (never the API URL);
    // the project is a bare id in the event, its slug comes from the event's API URL
    file: "sentry/error-created.json",
    sameIncidentAs: "sentry/issue-created.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "1170820242",
          title: "ReferenceError: blooopy is not defined",
          service: "front-end",
          target: "Sentry issue: FRONT-END-9",
          severity: "P1",
          links: ["https://sentry.io/organizations/test-org/issues/1170820242/"],
          status: "firing",
        },
      ],
    },
  },
  {
    // resolved in Sentry, then unresolved: the same incident reopens, and keeps the link it had
    file: "sentry/issue-unresolved.json",
    before: withAction("resolved"),
    sameIncidentAs: "sentry/issue-created.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "1170820242",
          title: "ReferenceError: blooopy is not defined",
          service: "front-end",
          target: "Sentry issue: FRONT-END-9",
          severity: "P1",
          links: ["https://sentry.io/organizations/test-org/issues/1170820242/"],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "sentry/issue-created-2020.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "1635244907",
          title: "Exception: Custom exception!",
          service: "zulip-integration-testing",
          target: "Sentry issue: ZULIP-INTEGRATION-TESTING-2",
          severity: "P1",
          links: [],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "sentry/issue-created-with-urls.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "123456",
          title: "ValueError: bad value",
          service: "my-proj",
          target: "Sentry issue: MY-PROJ-1",
          severity: "P1",
          // web_url, not data.issue.url (…/api/0/…)
          links: ["https://sentry.io/organizations/my-org/issues/123456/"],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "sentry/issue-resolved.json",
    before: withAction("created"),
    outcome: { kind: "incidents", incidents: [{ ...ZULIP_ISSUE, links: [], status: "resolved" }] },
  },
  {
    file: "sentry/issue-ignored.json",
    before: withAction("created"),
    outcome: {
      kind: "incidents",
      incidents: [
        {
          ...ZULIP_ISSUE,
          links: [],
          status: "resolved",
          closedNote: "Closed, no action needed: ignored in Sentry by Hemanth V. Alluri: needs no action",
        },
      ],
    },
  },
  {
    file: "sentry/issue-archived.json",
    before: withAction("created"),
    outcome: {
      kind: "incidents",
      incidents: [
        {
          ...ZULIP_ISSUE,
          links: [],
          status: "resolved",
          closedNote: "Closed, no action needed: archived in Sentry by Hemanth V. Alluri: needs no action",
        },
      ],
    },
  },
  { file: "sentry/issue-assigned.json", outcome: { kind: "ignored" } },
  {
    file: "sentry/event-alert-triggered.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "1117540176",
          title: "ReferenceError: heck is not defined",
          // the project is a bare id in the event; the slug comes from the event's URL
          service: "front-end",
          target: "Sentry issue: 1117540176",
          severity: "P1",
          // the event's page becomes its issue's page: the same link for every event of the issue
          links: ["https://sentry.io/organizations/test-org/issues/1117540176/"],
          status: "firing",
        },
      ],
    },
  },
  {
    // the rule warned first, then went critical: the same incident, raised to P0; its title is the
    // rule's name (description_title "Critical: …" changes with each action, the incident does not)
    file: "sentry/metric-alert-critical.json",
    before: withAction("warning"),
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "metric_alert-1",
          title: "My Metric Alert",
          service: "my-proj",
          target: "Sentry alert rule: My Metric Alert",
          severity: "P0",
          links: ["https://sentry.io/organizations/my-org/alerts/rules/details/7/"],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "sentry/metric-alert-warning.json",
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "metric_alert-789",
          title: "metric alert",
          service: null,
          target: "Sentry alert rule: metric alert",
          severity: "P2",
          links: [],
          status: "firing",
        },
      ],
    },
  },
  {
    file: "sentry/metric-alert-resolved.json",
    before: withAction("critical"),
    outcome: {
      kind: "incidents",
      incidents: [
        {
          fingerprint: "metric_alert-4",
          title: "Too many errors",
          service: "bar",
          target: "Sentry alert rule: Too many errors",
          severity: "P0",
          links: ["https://sentry.io/organizations/baz/alerts/1/"],
          status: "resolved",
        },
      ],
    },
  },
  { file: "sentry/installation-created.json", outcome: { kind: "ignored" } },
  { file: "sentry/installation-deleted.json", outcome: { kind: "ignored" } },
  { file: "sentry/comment-created.json", outcome: { kind: "ignored" } },
];

let stack: Stack;
const openedBy = new Map<string, string>();

beforeAll(async () => {
  stack = await startStack({
    // every case opens its own incident: no storm folding, and Telegram's limits lifted for the
    // emulator and the bot alike (the cards are read back, not the flood control)
    env: { STORM_THRESHOLD: "10000" },
    telegram: { groupPerMinute: 100_000 },
  });
});
afterAll(async () => {
  await stack?.close();
});

async function post(
  fixture: Fixture,
  body: Record<string, unknown>,
): Promise<{ status: number; json: unknown }> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (fixture.route === "alertmanager") Object.assign(headers, alertmanagerAuth);
  else if (fixture.route === "grafana") Object.assign(headers, GRAFANA_AUTH);
  else Object.assign(headers, sentryHeaders(text, fixture.headers?.["Sentry-Hook-Resource"] ?? ""));
  const response = await fetch(`${stack.url}/api/v1/webhooks/${fixture.route}`, {
    method: "POST",
    headers,
    body: text,
  });
  return { status: response.status, json: await response.json() };
}

async function ingested(jobId: string): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    // state first: a job read before it completed has no return value yet
    const state = await stack.runtime.queues.ingest.getJobState(jobId);
    const job = await stack.runtime.queues.ingest.getJob(jobId);
    if (state === "completed") return job?.returnvalue;
    if (state === "failed") throw new Error(`ingest job failed: ${job?.failedReason ?? "?"}`);
    if (Date.now() > deadline) throw new Error(`ingest job ${jobId} still ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function deliver(fixture: Fixture, body: Record<string, unknown>): Promise<unknown> {
  const response = await post(fixture, body);
  expect(response.status, JSON.stringify(response.json)).toBe(202);
  return ingested((response.json as { jobId: string }).jobId);
}

async function incidents(): Promise<Incident[]> {
  const response = await fetch(`${stack.url}/api/v1/incidents?limit=500`, {
    headers: { authorization: `Bearer ${TEST_SECRETS.apiToken}` },
  });
  return ((await response.json()) as { incidents: Incident[] }).incidents;
}

/** The newest incident of this identity (ids grow). */
async function incidentOf(fingerprint: string): Promise<Incident | undefined> {
  return (await incidents())
    .filter((incident) => incident.fingerprint === fingerprint)
    .sort((a, b) => (a.id < b.id ? 1 : -1))[0];
}

/** The incident's card as the chat shows it, once `ready` holds for it (else the last one seen). */
async function cardOf(
  incidentId: string,
  ready: (card: { text: string; html: string }) => boolean,
): Promise<{ text: string; html: string }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const message = stack.telegram.messages(-1001234567890).find((each) => each.text.includes(incidentId));
    const card = message === undefined ? undefined : { text: message.text, html: message.html ?? "" };
    if (card !== undefined && (ready(card) || Date.now() > deadline)) return card;
    if (Date.now() > deadline) throw new Error(`no card for ${incidentId}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the real-world corpus through POST /api/v1/webhooks/*", () => {
  it.each(CASES.map((each) => [each.file, each] as const))("%s", async (file, testCase) => {
    const fixture = load(file);
    const { outcome } = testCase;
    if (testCase.before !== undefined) await deliver(fixture, testCase.before(structuredClone(fixture.body)));

    if (outcome.kind === "ignored") {
      const response = await post(fixture, fixture.body);
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ status: "ignored" });
      return;
    }
    const result = (await deliver(fixture, fixture.body)) as {
      skipped: { heartbeats: number; informational: number };
    };
    if (outcome.kind === "skipped") {
      expect(result.skipped).toEqual({
        heartbeats: outcome.heartbeats,
        informational: outcome.informational,
      });
      for (const fingerprint of outcome.fingerprints) expect(await incidentOf(fingerprint)).toBeUndefined();
      return;
    }
    for (const want of outcome.incidents) {
      const incident = await incidentOf(want.fingerprint);
      expect(incident, want.fingerprint).toBeDefined();
      if (incident === undefined) return;
      if (testCase.sameIncidentAs !== undefined)
        expect(incident.id).toBe(openedBy.get(testCase.sameIncidentAs));
      else openedBy.set(file, incident.id);
      const target =
        incident.target === null
          ? null
          : `${incident.target.kind}: ${incident.target.namespace === undefined ? "" : `${incident.target.namespace}/`}${incident.target.name}`;
      expect({
        title: incident.title,
        service: incident.service,
        target,
        severity: incident.severity,
        status: incident.status === "resolved" ? "resolved" : "firing",
      }).toEqual({
        title: want.title,
        service: want.service,
        target: want.target,
        severity: want.severity,
        status: want.status,
      });
      const urls = incident.links.map((link) => link.url);
      // "silence": Grafana's silence link, whose matchers are long; its start is enough here
      expect(
        urls.map((url, index) =>
          want.links[index] === "silence" && url.includes("/alerting/silence/new?") ? "silence" : url,
        ),
      ).toEqual(want.links);
      expect(urls.some((url) => url.includes("/api/0/"))).toBe(false);

      // the card: the target line, every link, and never Sentry's API
      const hrefs = urls.map((url) => `href="${url.replaceAll("&", "&amp;")}"`);
      const card = await cardOf(
        incident.id,
        (shown) =>
          hrefs.every((href) => shown.html.includes(href)) &&
          (want.status === "resolved") === shown.text.includes("RESOLVED") &&
          (want.closedNote === undefined || shown.text.includes(want.closedNote)),
      );
      if (want.target !== null) expect(card.text).toContain(`🎯 ${want.target}`);
      expect(card.text).toContain(want.title);
      for (const href of hrefs) expect(card.html).toContain(href);
      expect(card.text.includes("RESOLVED")).toBe(want.status === "resolved");
      expect(card.html).not.toContain("/api/0/");
      if (want.closedNote !== undefined) expect(card.text).toContain(want.closedNote);
    }
  });
});
