// Generates from the registry what Prometheus and Alertmanager load: one rule group per service
// (and per host), and the route that sends every alert to the bot's webhook.
import { stringify } from "yaml";
import { hostGroup, type AlertRule, type Registry } from "./model.js";
import { SEVERITY_LABELS } from "./schema.js";

/** The route and user the bot's Alertmanager webhook expects. */
export const WEBHOOK_PATH = "/api/v1/webhooks/alertmanager";
export const WEBHOOK_USER = "alertmanager";

export const RULES_FILE = "prometheus-rules.yml";
export const ALERTMANAGER_FILE = "alertmanager.yml";

interface PrometheusRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function prometheusRules(registry: Registry): { groups: { name: string; rules: PrometheusRule[] }[] } {
  const groups = [
    ...registry.services.map((service) => ({ name: service.name, rules: service.rules })),
    ...registry.hosts.map((host) => ({
      name: hostGroup(host.name),
      rules: host.rules.filter((rule) => rule.group === hostGroup(host.name)),
    })),
  ];
  return {
    groups: groups
      .map(({ name, rules }) => ({ name, rules: rules.flatMap(toPrometheusRule) }))
      .filter((group) => group.rules.length > 0),
  };
}

function toPrometheusRule(rule: AlertRule): PrometheusRule[] {
  if (rule.source !== "prometheus" || rule.expr === undefined) return [];
  return [
    {
      alert: rule.name,
      expr: rule.expr,
      ...(rule.for === undefined ? {} : { for: rule.for }),
      labels: { ...rule.labels },
      annotations: {
        summary: rule.summary,
        description: rule.description ?? rule.summary,
        runbook_url: rule.runbook_url,
        ...(rule.auto_repair === "none" ? {} : { auto_repair: rule.auto_repair }),
      },
    },
  ];
}

export function alertmanagerConfig(registry: Registry) {
  const settings = registry.alertmanager;
  const receiver = settings.receiver;
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver,
      group_by: settings.group_by,
      group_wait: settings.group_wait,
      group_interval: settings.group_interval,
      repeat_interval: settings.repeat_interval,
      routes: [
        ...heartbeatRoutes(settings.heartbeats, receiver),
        ...SEVERITY_LABELS.map((severity) => ({
          receiver,
          matchers: [`severity="${severity}"`],
          ...settings.severity_routes[severity],
        })),
      ],
    },
    // While a critical alert fires for a service (or host), its lesser alerts add only noise.
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"high|medium"'],
        equal: ["service", "host"],
      },
    ],
    receivers: [
      {
        name: receiver,
        webhook_configs: [
          {
            url: `${settings.bot_url.replace(/\/+$/, "")}${WEBHOOK_PATH}`,
            send_resolved: true,
            // 0: every alert of a group in one request; the bot takes up to ALERTMANAGER_MAX_BODY_BYTES
            max_alerts: 0,
            http_config: { basic_auth: { username: WEBHOOK_USER, password_file: settings.password_file } },
          },
        ],
      },
    ],
  };
}

/**
 * A heartbeat (Watchdog) fires all the time and is repeated only every repeat_interval: at the
 * default 4h the bot's dead-man's switch (HEARTBEAT_TIMEOUT_SECONDS, 15 min) would call the
 * pipeline silent between two deliveries. Its own route sends it every minute.
 */
function heartbeatRoutes(names: readonly string[], receiver: string) {
  if (names.length === 0) return [];
  const matcher = names.length === 1 ? `alertname="${names[0] ?? ""}"` : `alertname=~"${names.join("|")}"`;
  return [{ receiver, matchers: [matcher], group_wait: "0s", group_interval: "1m", repeat_interval: "1m" }];
}

const HEADER = (registry: Registry) =>
  `# Generated from ${registry.file} by \`npm run registry -- generate\`; edit the registry, not this file.\n`;

/** The two generated files, by file name. */
export function generateFiles(
  registry: Registry,
): Record<typeof RULES_FILE | typeof ALERTMANAGER_FILE, string> {
  const options = { lineWidth: 0 };
  return {
    [RULES_FILE]: HEADER(registry) + stringify(prometheusRules(registry), options),
    [ALERTMANAGER_FILE]: HEADER(registry) + stringify(alertmanagerConfig(registry), options),
  };
}
