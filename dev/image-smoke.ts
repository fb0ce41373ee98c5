// The container image through the whole loop (deploy/image/test-image.sh runs it after the build):
// the image runs against the real Redis and PostgreSQL on 127.0.0.1 (its own schema and key
// prefix) and the Telegram emulator, with `--network host` bound to 127.0.0.1. It checks, in order:
// /api/v1/health answers 200; Docker's own HEALTHCHECK reports "healthy"; an Alertmanager alert
// becomes a card in the emulated chat; the process runs as uid 1000 with tini as PID 1; and
// `docker stop` (SIGTERM through tini) ends in a drain and exit code 0. The root file system is
// read-only, as in the pods. It prints the figures
// (start-up to healthy, RSS of the node process) as one JSON line on stdout.
//
//   node --import tsx dev/image-smoke.ts --image chatops-bot:test     (DOCKER_HOST as for docker)
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { alertmanagerPayload } from "./alerts.js";
import { testEnv, TEST_SECRETS } from "./env.js";
import { createTestDatabase } from "./postgres.js";
import { freePort } from "./processes.js";
import { deleteKeys, uniquePrefix } from "./redis.js";
import { alertmanagerAuth, CHAT_ID, waitForChat } from "./stack.js";
import { TelegramEmulator } from "./emulators/telegram.js";

const run = promisify(execFile);

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

function step(what: string): void {
  console.error(`[image-smoke] ${what}`);
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resident memory (kB) of a process, from /proc: the container's processes are the host's. */
async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { image: { type: "string", default: "chatops-bot:test" } } });
  const image = values.image;
  const db = await createTestDatabase({ migrate: false });
  const prefix = uniquePrefix();
  const telegram = new TelegramEmulator({ token: TEST_SECRETS.telegramToken });
  await telegram.start();
  const port = await freePort();
  const name = `chatops-smoke-${prefix.replace(/[^a-z0-9]/gi, "").slice(-12)}`;
  const env = testEnv({
    DATABASE_URL: db.url,
    REDIS_PREFIX: prefix,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_CHAT_ID: String(CHAT_ID),
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    SHUTDOWN_DELAY_SECONDS: "1",
  });
  const envArgs = Object.entries(env).flatMap(([key, value]) =>
    value === undefined ? [] : ["--env", `${key}=${value}`],
  );
  try {
    step(`starting ${image} as ${name} on 127.0.0.1:${port}`);
    const started = Date.now();
    await docker(
      "run",
      "--detach",
      "--pull",
      "never",
      "--network",
      "host",
      "--name",
      name,
      // as the pods run it (deploy/k8s: readOnlyRootFilesystem, an emptyDir on /tmp)
      "--read-only",
      "--tmpfs",
      "/tmp",
      // Docker's HEALTHCHECK as built into the image, asked every second here instead of every 30
      "--health-interval",
      "1s",
      "--health-start-period",
      "0s",
      ...envArgs,
      image,
    );
    const url = `http://127.0.0.1:${port}`;
    await until("/api/v1/health answers 200", 120_000, async () => {
      const state = await docker("inspect", "--format", "{{.State.Status}}", name);
      if (state === "exited") throw new Error(`container exited:\n${await docker("logs", name)}`);
      const response = await fetch(`${url}/api/v1/health`);
      return response.status === 200 ? true : undefined;
    }).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\n${await docker("logs", name).catch(() => "")}`);
    });
    const healthyMs = Date.now() - started;
    step(`healthy after ${healthyMs} ms`);
    await until("docker reports the container healthy", 60_000, async () =>
      (await docker("inspect", "--format", "{{.State.Health.Status}}", name)) === "healthy"
        ? true
        : undefined,
    );

    const tiniPid = Number(await docker("inspect", "--format", "{{.State.Pid}}", name));
    const init = (await readFile(`/proc/${tiniPid}/cmdline`, "utf8")).split("\0")[0];
    if (init !== "/usr/bin/tini") throw new Error(`PID 1 of the container is ${init}, not tini`);
    const children = (await readFile(`/proc/${tiniPid}/task/${tiniPid}/children`, "utf8"))
      .trim()
      .split(/\s+/);
    const nodePid = Number(children[0]);
    const uid = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${nodePid}/status`, "utf8"))?.[1];
    if (uid !== "1000") throw new Error(`node runs as uid ${uid ?? "?"}, not 1000`);

    step("sending an Alertmanager alert");
    const response = await fetch(`${url}/api/v1/webhooks/alertmanager`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alertmanagerAuth },
      body: JSON.stringify(alertmanagerPayload({ fingerprint: `image-${prefix}` })),
    });
    if (response.status !== 202)
      throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
    const [card] = await waitForChat(telegram, (messages) => messages.length > 0, 30_000);
    step(`card in the chat: ${card?.text.split("\n")[0] ?? ""}`);
    const rss = await rssKb(nodePid);

    step("docker stop (SIGTERM to tini, forwarded to node)");
    const stopStarted = Date.now();
    await docker("stop", "--time", "45", name);
    const stopMs = Date.now() - stopStarted;
    const exitCode = await docker("inspect", "--format", "{{.State.ExitCode}}", name);
    const logs = await docker("logs", name).catch(() => "");
    const order = ["draining: readiness is false", "shutting down", "stopped"].map((line) =>
      logs.indexOf(line),
    );
    if (
      exitCode !== "0" ||
      order.some((at, index) => at < 0 || (index > 0 && at < (order[index - 1] ?? 0)))
    ) {
      throw new Error(`graceful stop failed: exit code ${exitCode}\n${logs}`);
    }
    const imageBytes = Number(await docker("image", "inspect", "--format", "{{.Size}}", image));
    console.log(
      JSON.stringify({
        image,
        imageMB: Math.round(imageBytes / 1e6),
        startToHealthyMs: healthyMs,
        rssMB: Math.round(rss / 1024),
        stopMs,
      }),
    );
    step("passed");
  } finally {
    await docker("rm", "--force", name).catch(() => undefined);
    await telegram.close();
    await deleteKeys(prefix);
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(`[image-smoke] FAILED: ${(error as Error).message}`);
  process.exitCode = 1;
});
