// A private ClickHouse server (Debian package clickhouse-server, 18.16) for one test file: its own
// temp dir and config, HTTP on a free 127.0.0.1 port, no interserver port; the native TCP port only
// when the test asks for a one-node cluster (a Distributed table reaches its shard through it).
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startProcess } from "../../dev/processes.js";

export const CLICKHOUSE_BINARY = "/usr/sbin/clickhouse-server";

export interface ClickHouseProcess {
  /** http://127.0.0.1:port, for `createClient({ url })`. */
  url: string;
  /** How long the server took from spawn to answering `GET /ping`. */
  startedInMs: number;
  /** The server's log file (warnings and errors), for failure messages. */
  logFile: string;
  stop(): Promise<void>;
}

/** A cluster of one shard, this server itself, as SigNoz's `ON CLUSTER` migrations expect one. */
function clusterXml(cluster: { name: string; tcpPort: number }): string {
  // The shard is 127.0.0.1 on the server's own native port, so the server knows it as local and
  // reads it without a network hop (as on a single-node SigNoz).
  return `
  <tcp_port>${cluster.tcpPort}</tcp_port>
  <remote_servers>
    <${cluster.name}>
      <shard><replica><host>127.0.0.1</host><port>${cluster.tcpPort}</port></replica></shard>
    </${cluster.name}>
  </remote_servers>`;
}

function configXml(dir: string, httpPort: number, cluster?: { name: string; tcpPort: number }): string {
  // The server is told about every path, so it writes nothing outside `dir`. Leaving out
  // <tcp_port> and <interserver_http_port> disables them; users, profiles and quotas live in
  // the same file, so no users.xml is read from /etc. Caches are small: the tests hold a few
  // thousand rows and the machine is shared.
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${join(dir, "server.log")}</log>
    <errorlog>${join(dir, "server.err.log")}</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>${cluster === undefined ? "" : clusterXml(cluster)}
  <!-- @clickhouse/client drops idle sockets after 2.5 s, assuming the server's usual 3 s. -->
  <keep_alive_timeout>3</keep_alive_timeout>
  <path>${join(dir, "data")}/</path>
  <tmp_path>${join(dir, "tmp")}/</tmp_path>
  <user_files_path>${join(dir, "user_files")}/</user_files_path>
  <format_schema_path>${join(dir, "format_schemas")}/</format_schema_path>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <users>
    <default>
      <password></password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <profiles><default></default></profiles>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`;
}

/**
 * One `GET /ping` on a connection of its own that closes afterwards: a kept-alive socket would
 * hold the server's shutdown for several seconds.
 */
function ping(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(`${url}/ping`, { agent: false, timeout: 1_000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error("ping timed out")));
    request.on("error", reject);
  });
}

/** Polls `GET /ping` until it answers "Ok." (ClickHouse's own readiness answer). */
async function waitForPing(url: string, timeoutMs: number, exited: () => number | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const code = exited();
    if (code !== null) throw new Error(`clickhouse-server exited with ${code}`);
    try {
      const { status, body } = await ping(url);
      if (status === 200 && body.trim() === "Ok.") return;
      last = `HTTP ${status} ${body.slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`clickhouse-server at ${url} not ready within ${timeoutMs} ms (${last})`);
}

/**
 * Starts the server; with `cluster`, it also serves the native protocol and knows a one-node
 * cluster of that name, so `Distributed('<cluster>', …)` tables work.
 */
export async function startClickHouse(options: { cluster?: string } = {}): Promise<ClickHouseProcess> {
  if (!existsSync(CLICKHOUSE_BINARY)) {
    throw new Error(`${CLICKHOUSE_BINARY} is missing: apt-get install clickhouse-server (.ci/run does this)`);
  }
  const dir = await mkdtemp(join(tmpdir(), "clickhouse-"));
  const port = await freePort();
  const configFile = join(dir, "config.xml");
  const cluster =
    options.cluster === undefined ? undefined : { name: options.cluster, tcpPort: await freePort() };
  await writeFile(configFile, configXml(dir, port, cluster));
  const started = Date.now();
  const server = startProcess(CLICKHOUSE_BINARY, [`--config-file=${configFile}`]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    // startProcess: SIGTERM, then SIGKILL after 5 s.
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(url, 15_000, () => server.child.exitCode);
  } catch (error) {
    // The server logs to files, not to stdout: show the end of its error log.
    const log = await readFile(join(dir, "server.err.log"), "utf8").catch(() => "");
    const output = `${server.output()}${log.slice(-4_000)}`;
    await stop();
    throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
  }
  return { url, startedInMs: Date.now() - started, logFile: join(dir, "server.log"), stop };
}
