// A real Prometheus Alertmanager (Debian package prometheus-alertmanager) on 127.0.0.1, with
// clustering off, for end-to-end tests and the bench.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { freePort, startProcess, waitForHttp } from "./processes.js";

export const ALERTMANAGER_BINARY = "/usr/bin/prometheus-alertmanager";

export interface AlertmanagerProcess {
  url: string;
  stop(): Promise<void>;
  output(): string;
}

export interface WebhookTarget {
  url: string;
  password: string;
}

/** Starts Alertmanager routing every alert to `webhook` (or to a receiver with no integrations). */
export async function startAlertmanager(
  options: {
    webhook?: WebhookTarget;
    groupBy?: string[];
    groupWait?: string;
    groupInterval?: string;
    repeatInterval?: string;
  } = {},
): Promise<AlertmanagerProcess> {
  if (!existsSync(ALERTMANAGER_BINARY)) {
    throw new Error(
      `${ALERTMANAGER_BINARY} is missing: apt-get install prometheus-alertmanager (.ci/run does this)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "alertmanager-"));
  const passwordFile = join(dir, "webhook-password");
  if (options.webhook !== undefined) await writeFile(passwordFile, options.webhook.password, { mode: 0o600 });
  const receiver =
    options.webhook === undefined
      ? { name: "chatops" }
      : {
          name: "chatops",
          webhook_configs: [
            {
              url: options.webhook.url,
              send_resolved: true,
              http_config: { basic_auth: { username: "alertmanager", password_file: passwordFile } },
            },
          ],
        };
  const config = {
    route: {
      receiver: "chatops",
      group_by: options.groupBy ?? ["..."],
      group_wait: options.groupWait ?? "0s",
      group_interval: options.groupInterval ?? "1s",
      repeat_interval: options.repeatInterval ?? "1h",
    },
    receivers: [receiver],
  };
  await writeFile(join(dir, "alertmanager.yml"), stringify(config));
  const port = await freePort();
  const process = startProcess(ALERTMANAGER_BINARY, [
    `--config.file=${join(dir, "alertmanager.yml")}`,
    `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
    "--log.level=warn",
  ]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/-/ready`, 15_000, process.child);
  } catch (error) {
    await process.stop();
    throw new Error(`${(error as Error).message}\n${process.output()}`, { cause: error });
  }
  return {
    url,
    output: process.output,
    async stop() {
      await process.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Posts alerts the way Prometheus does (Alertmanager API v2). */
export async function postAlerts(
  url: string,
  alerts: {
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    startsAt?: string;
    endsAt?: string;
  }[],
): Promise<void> {
  const response = await fetch(`${url}/api/v2/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(alerts),
  });
  if (!response.ok)
    throw new Error(`alertmanager refused alerts: ${response.status} ${await response.text()}`);
}
