// RESTART_CONTAINER against a real, private Docker engine (test/support/docker-engine.ts).
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerodeGateway } from "../../gateways/docker-gateway.js";
import type { ExecutionResult, VerifyResult } from "../../executors/executor.js";
import {
  restartContainer,
  startedLater,
  STOP_TIMEOUT_SECONDS,
  type RestartContainerDeps,
} from "../../executors/restart-container.js";
import { startDockerEngine, type DockerEngine } from "../support/docker-engine.js";
import { freePort } from "../../dev/processes.js";

let engine: DockerEngine;
let deps: RestartContainerDeps;

beforeAll(async () => {
  engine = await startDockerEngine();
  // Through DOCKER_HOST's form, as production builds it.
  deps = { docker: DockerodeGateway.fromHost(engine.dockerHost) };
});

afterAll(async () => {
  await engine?.stop();
});

const SECOND_NS = 1_000_000_000;

/** Starts a busybox container with an init (so SIGTERM stops it at once) and no network. */
async function runContainer(
  name: string,
  cmd: string[],
  extra: Partial<Docker.ContainerCreateOptions> = {},
): Promise<Docker.Container> {
  const container = await engine.docker.createContainer({
    name,
    Image: engine.image,
    Cmd: cmd,
    ...extra,
    HostConfig: { Init: true, NetworkMode: "none", ...extra.HostConfig },
  });
  await container.start();
  return container;
}

async function startedAt(container: Docker.Container): Promise<string> {
  return (await container.inspect()).State.StartedAt;
}

/** The engine's lifecycle events for one container since `sinceMs`, oldest first. */
async function lifecycleEvents(name: string, sinceMs: number): Promise<string[]> {
  const stream = await engine.docker.getEvents({
    // Past `until`, the engine sends what it has and closes the stream.
    since: sinceMs / 1000,
    until: Date.now() / 1000,
    filters: { type: ["container"], container: [name], event: ["kill", "stop", "die", "start", "restart"] },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { Action: string }).Action);
}

/** Calls verify as a caller would, until it is no longer pending or the deadline passes. */
async function verifyUntilSettled(
  container: string,
  result: ExecutionResult,
  timeoutMs = 10_000,
): Promise<VerifyResult[]> {
  const outcomes: VerifyResult[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await restartContainer.verify(deps, { container }, result);
    outcomes.push(outcome);
    if (outcome.outcome !== "pending" || Date.now() > deadline) return outcomes;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("RESTART_CONTAINER params", () => {
  it.each([["postgres"], ["redis-stack"], ["app_1.web"], ["a"]])("accepts %s", (container) => {
    expect(restartContainer.params.safeParse({ container }).success).toBe(true);
  });

  it.each([["-rm"], ["a; rm -rf /"], ["../etc"], [""], ["a".repeat(129)]])("refuses %j", (container) => {
    expect(restartContainer.params.safeParse({ container }).success).toBe(false);
  });

  it("refuses keys it does not know", () => {
    expect(restartContainer.params.safeParse({ container: "redis", command: "sh" }).success).toBe(false);
  });

  it("plans one Container.restart with the stop timeout, naming the host when given", () => {
    expect(restartContainer.plan({ host: "docker-1", container: "redis" })).toEqual([
      {
        api: "docker",
        method: "Container.restart",
        args: { host: "docker-1", container: "redis", t: STOP_TIMEOUT_SECONDS },
      },
    ]);
  });

  it("compares the engine's start times to the nanosecond", () => {
    // Go drops trailing zeros, so ".8571Z" sorts after ".857135081Z" as a string.
    expect(startedLater("2026-11-24T08:18:53.857135081Z", "2026-11-24T08:18:53.8571Z")).toBe(true);
    expect(startedLater("2026-11-24T08:18:53.8571Z", "2026-11-24T08:18:53.857135081Z")).toBe(false);
    expect(startedLater("2026-11-24T08:18:53Z", "0001-01-01T00:00:00Z")).toBe(true);
  });
});

describe("RESTART_CONTAINER on a real Docker engine", () => {
  it("restarts a running container and verifies its new start time", async () => {
    const container = await runContainer("sleeper", ["sleep", "3600"]);
    const previous = await startedAt(container);
    const since = Date.now();

    expect(await restartContainer.guard(deps, { container: "sleeper" })).toEqual({ ok: true });
    const result = await restartContainer.execute(deps, { container: "sleeper" }, { dryRun: false });

    expect(result.changed).toBe(true);
    expect(result.calls).toEqual(restartContainer.plan({ container: "sleeper" }));
    expect(result.before).toMatchObject({ startedAt: previous });
    expect(startedLater(await startedAt(container), previous)).toBe(true);
    expect(await lifecycleEvents("sleeper", since)).toContain("restart");
    const outcomes = await verifyUntilSettled("sleeper", result);
    expect(outcomes.at(-1)).toMatchObject({ outcome: "recovered" });
  });

  it("changes nothing in a dry run", async () => {
    const container = await runContainer("dry-run", ["sleep", "3600"]);
    const previous = await startedAt(container);
    const since = Date.now();

    const result = await restartContainer.execute(deps, { container: "dry-run" }, { dryRun: true });

    expect(result).toEqual({
      changed: false,
      calls: restartContainer.plan({ container: "dry-run" }),
      before: { id: container.id, startedAt: previous },
    });
    expect(await startedAt(container)).toBe(previous);
    expect(await lifecycleEvents("dry-run", since)).toEqual([]);
  });

  it("refuses a container the engine does not have", async () => {
    expect(await restartContainer.guard(deps, { container: "no-such-container" })).toEqual({
      ok: false,
      rule: "container-exists",
      reason: "no container named no-such-container",
      said: { code: "container_missing", container: "no-such-container" },
    });
  });

  it("takes a name only as a name: a short id prefix does not reach another container", async () => {
    const container = await runContainer("payments-db", ["sleep", "3600"]);
    const previous = await startedAt(container);
    // an alert's `service: db` reads like a name but is also a hex id prefix to the engine
    const prefix = container.id.slice(0, 6);

    expect(await restartContainer.guard(deps, { container: prefix })).toEqual({
      ok: false,
      rule: "container-exists",
      reason: `no container named ${prefix}`,
      said: { code: "container_missing", container: prefix },
    });
    await expect(restartContainer.execute(deps, { container: prefix }, { dryRun: false })).rejects.toThrow(
      `no container named ${prefix}`,
    );
    expect(await startedAt(container)).toBe(previous);
    expect(await restartContainer.guard(deps, { container: "payments-db" })).toEqual({ ok: true });
  });

  it("refuses a container outside the allow-list, and allows one on it", async () => {
    await runContainer("not-listed", ["sleep", "3600"]);
    const listed = { ...deps, allowedContainers: ["postgres", "listed"] };
    await runContainer("listed", ["sleep", "3600"]);

    expect(await restartContainer.guard(listed, { container: "not-listed" })).toEqual({
      ok: false,
      rule: "container-allow-list",
      reason: "container not-listed is not on the allow-list",
      said: { code: "container_not_allowed", container: "not-listed" },
    });
    expect(await restartContainer.guard(listed, { container: "listed" })).toEqual({ ok: true });
  });

  it("reports failed for a container that exits right after the restart", async () => {
    // Runs the first time, exits 1 on every later start: its marker file survives a restart.
    const script = "if [ -e /tmp/started ]; then exit 1; fi; touch /tmp/started; exec sleep 3600";
    const container = await runContainer("crashes-on-restart", ["sh", "-c", script]);
    expect((await container.inspect()).State.Running).toBe(true);

    const result = await restartContainer.execute(
      deps,
      { container: "crashes-on-restart" },
      { dryRun: false },
    );
    await container.wait({ condition: "not-running" });

    expect(await restartContainer.verify(deps, { container: "crashes-on-restart" }, result)).toEqual({
      outcome: "failed",
      detail: "container is exited (exit code 1)",
      said: { code: "container_stopped", status: "exited", exitCode: 1 },
    });
  });

  it("is pending while the healthcheck starts, then recovered once healthy", async () => {
    // busybox httpd on loopback only; the first check runs a second after each start.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    await runContainer("web", ["httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", "/www"], {
      HostConfig: { NetworkMode: "host" },
      Healthcheck: {
        Test: ["CMD", "wget", "-q", "-O", "/dev/null", url],
        Interval: SECOND_NS,
        Timeout: 2 * SECOND_NS,
        Retries: 3,
      },
    });

    const result = await restartContainer.execute(deps, { container: "web" }, { dryRun: false });
    const outcomes = await verifyUntilSettled("web", result);

    expect(outcomes[0]).toEqual({
      outcome: "pending",
      detail: "healthcheck is starting",
      said: { code: "healthcheck_starting" },
    });
    expect(outcomes.at(-1)?.outcome).toBe("recovered");
    expect(outcomes.at(-1)?.detail).toMatch(/\(healthy\)$/);
    expect(await (await fetch(url)).text()).toBe("ok\n");
  });

  it("reports failed for a container whose healthcheck fails", async () => {
    await runContainer("sick", ["sleep", "3600"], {
      Healthcheck: { Test: ["CMD", "false"], Interval: SECOND_NS / 4, Timeout: SECOND_NS, Retries: 1 },
    });

    const result = await restartContainer.execute(deps, { container: "sick" }, { dryRun: false });
    const outcomes = await verifyUntilSettled("sick", result);

    expect(outcomes.at(-1)).toEqual({
      outcome: "failed",
      detail: "container is unhealthy",
      said: { code: "container_unhealthy" },
    });
  });
});
