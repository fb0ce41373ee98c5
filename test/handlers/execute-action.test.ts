// Execution deadline and the verification evidence beyond the executor's own check, on real
// PostgreSQL. The executor here is a test executor whose behaviour each test sets; the real
// executors run end to end in test/e2e/.
import { messagesFor } from "../../domain/i18n/index.js";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { auditTrail, getAction, type PendingAction } from "../../db/actions.js";
import { addEvent, getIncident, insertIncident, listEvents, markResolved } from "../../db/incidents.js";
import { listPlaybooks } from "../../db/playbooks.js";
import {
  type Executor,
  type VerifyResult,
  bindExecutor,
  bindExecutors,
  ExecutionFailure,
  refusal,
  verdict,
} from "../../executors/executor.js";
import { executeAction, verifyAction, type ExecuteDeps } from "../../handlers/execute-action.js";
import { buildIncidentCard } from "../../handlers/build-incident-card.js";
import { KubeError } from "../../gateways/kube-errors.js";
import { httpProbe, registryProbe } from "../../gateways/http-probe.js";
import { sweepActions } from "../../handlers/sweep-actions.js";
import { loadRegistry } from "../../registry/services.js";
import { closedPortUrl } from "../../dev/llm-incident.js";
import { createTestDatabase, interleaved, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase;
let server: Server | undefined;
let dir: string | undefined;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
  if (server !== undefined) await new Promise((resolve) => server?.close(resolve));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

const INCIDENT = "INC-20261124-0001";

/** What the test executor does; each test sets it. */
interface Behaviour {
  execute: (signal: AbortSignal | undefined) => Promise<void>;
  verify: () => VerifyResult;
}

function testExecutor(behaviour: Behaviour): Executor<{ container: string }, object> {
  return {
    name: "RESTART_CONTAINER",
    description: "test executor",
    params: z.strictObject({ container: z.string() }),
    guard: () => Promise.resolve({ ok: true }),
    plan: (p) => [{ api: "docker", method: "Container.restart", args: p }],
    async execute(_deps, p, context) {
      await behaviour.execute(context.signal);
      return { changed: true, calls: this.plan(p), before: {} };
    },
    verify: () => Promise.resolve(behaviour.verify()),
  };
}

async function setUp(behaviour: Behaviour, extra: Partial<ExecuteDeps> = {}) {
  await insertIncident(
    db.pool,
    INCIDENT,
    {
      source: "alertmanager",
      fingerprint: "fp-1",
      severity: "P1",
      title: "ContainerNotRunning",
      labels: { alertname: "ContainerNotRunning", container: "cache-redis", host: "node1" },
      annotations: {},
      links: [],
    },
    new Date(),
  );
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO pending_actions (incident_id, action, params, status, decided_by, decided_at)
     VALUES ($1, 'RESTART_CONTAINER', '{"container":"cache-redis"}', 'approved', 'guardrails', now()) RETURNING id`,
    [INCIDENT],
  );
  const escalations: { incidentId: string; detail: string }[] = [];
  const cooldowns: PendingAction[] = [];
  const deps: ExecuteDeps = {
    db: db.pool,
    executors: bindExecutors([bindExecutor(testExecutor(behaviour), {})]),
    dryRun: false,
    executionTimeoutMs: 5_000,
    autoRollback: false,
    escalate: (incidentId, detail) => {
      escalations.push({ incidentId, detail });
      return Promise.resolve();
    },
    startCooldown: (action) => {
      cooldowns.push(action);
      return Promise.resolve();
    },
    ...extra,
  };
  return { deps, actionId: Number(rows[0]?.id), escalations, cooldowns };
}

const recovered = (): VerifyResult =>
  verdict("recovered", { code: "container_running", since: "12:00:05", healthcheck: true });
const pending = (): VerifyResult => verdict("pending", { code: "container_status", status: "restarting" });

/** The card's history lines as the chat reads them in `language`. */
async function historyIn(language: "en" | "zh-TW"): Promise<string> {
  const incident = await getIncident(db.pool, INCIDENT);
  if (incident === undefined) throw new Error("incident missing");
  const events = await listEvents(db.pool, INCIDENT);
  const card = buildIncidentCard(
    incident,
    events,
    undefined,
    undefined,
    undefined,
    undefined,
    "UTC",
    language,
  );
  return card.history.map((entry) => entry.text).join("\n");
}

describe("execution deadline", () => {
  it("aborts an executor that outlives the timeout and fails the action without retrying", async () => {
    let aborted = false;
    const { deps, actionId, escalations, cooldowns } = await setUp(
      {
        execute: (signal) =>
          new Promise((_resolve, reject) => {
            signal?.addEventListener("abort", () => {
              aborted = true;
              reject(new Error("aborted"));
            });
          }),
        verify: recovered,
      },
      { executionTimeoutMs: 200 },
    );
    const started = Date.now();
    expect(await executeAction(deps, actionId)).toBe("failed");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(aborted).toBe(true);
    expect(await getAction(db.pool, actionId)).toMatchObject({
      status: "failed",
      result: { error: "execution timed out after 200 ms" },
    });
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("failed");
    expect(escalations).toEqual([
      { incidentId: INCIDENT, detail: "RESTART_CONTAINER failed: execution timed out after 200 ms" },
    ]);
    // the card says it in BOT_LANGUAGE from the bot's own reason, kept beside the English
    const failure = (await listEvents(db.pool, INCIDENT)).find((event) => event.kind === "execution_failed");
    expect(failure?.detail).toMatchObject({
      error: "execution timed out after 200 ms",
      reason: { code: "timeout", ms: 200 },
    });
    expect(cooldowns).toHaveLength(1);
    // a second delivery of the same job does not run it again
    expect(await executeAction(deps, actionId)).toBe("skipped");
    const [playbook] = (await listPlaybooks(db.pool, { limit: 5 })).items;
    expect(playbook).toMatchObject({ action: "RESTART_CONTAINER", failures: 1, successes: 0 });
  });
});

describe("verification", () => {
  it("counts the incident's alert resolving as recovery", async () => {
    const { deps, actionId, escalations } = await setUp({
      execute: () => Promise.resolve(),
      verify: pending,
    });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    expect(await verifyAction(deps, actionId, false)).toBe("pending");
    await markResolved(db.pool, INCIDENT, new Date());
    expect(await verifyAction(deps, actionId, false)).toBe("recovered");
    expect((await getAction(db.pool, actionId))?.status).toBe("succeeded");
    const verified = (await listEvents(db.pool, INCIDENT)).find((event) => event.kind === "verified");
    expect(verified?.detail.detail).toBe("the alert resolved");
    expect(escalations).toEqual([]);
    expect((await listPlaybooks(db.pool, { limit: 5 })).items[0]).toMatchObject({ successes: 1 });
  });

  it("resolves the incident and records the evidence in one transaction: no reader sees one without the other", async () => {
    const { deps, actionId } = await setUp({ execute: () => Promise.resolve(), verify: recovered });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    // another connection (a card's sync) reads right after the incident is marked resolved
    let seen: { resolved: boolean; verified: boolean } | undefined;
    const reader = async () => {
      const incident = await getIncident(db.pool, INCIDENT);
      const events = await listEvents(db.pool, INCIDENT);
      seen = {
        resolved: incident?.status === "resolved",
        verified: events.some((e) => e.kind === "verified"),
      };
    };
    const watched = interleaved(db.pool, /UPDATE incidents SET status = 'resolved'/, reader);
    expect(await verifyAction({ ...deps, db: watched }, actionId, false)).toBe("recovered");
    // before the commit it sees neither (a half change would be resolved with no evidence)
    expect(seen).toEqual({ resolved: false, verified: false });
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("resolved");
    expect((await listEvents(db.pool, INCIDENT)).some((event) => event.kind === "verified")).toBe(true);
  });

  it("fails the incident and records why in one transaction: no reader sees FAILED without the reason", async () => {
    const { deps, actionId } = await setUp({ execute: () => Promise.resolve(), verify: pending });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    let seen: { failed: boolean; explained: boolean } | undefined;
    const reader = async () => {
      const incident = await getIncident(db.pool, INCIDENT);
      const events = await listEvents(db.pool, INCIDENT);
      seen = {
        failed: incident?.status === "failed",
        explained: events.some((e) => e.kind === "execution_failed"),
      };
    };
    const watched = interleaved(db.pool, /UPDATE incidents SET status = \$3/, reader);
    // the deadline passes with the container still restarting
    expect(await verifyAction({ ...deps, db: watched }, actionId, true)).toBe("failed");
    expect(seen).toEqual({ failed: false, explained: false });
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("failed");
    expect((await listEvents(db.pool, INCIDENT)).some((event) => event.kind === "execution_failed")).toBe(
      true,
    );
  });

  it("records the failure before the cool-off, so a cool-off that cannot start leaves no incident unfailed", async () => {
    const { deps, actionId } = await setUp({ execute: () => Promise.resolve(), verify: pending });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    const broken = { ...deps, startCooldown: () => Promise.reject(new Error("Redis is down")) };
    await expect(verifyAction(broken, actionId, true)).rejects.toThrow("Redis is down");
    // the retried job meets the action already failed and stops: the records had to be there already
    expect(await verifyAction(deps, actionId, true)).toBe("skipped");
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("failed");
    expect((await listEvents(db.pool, INCIDENT)).some((event) => event.kind === "execution_failed")).toBe(
      true,
    );
  });

  it("fails, escalates and cools off when the service's HTTP probe keeps failing", async () => {
    let status = 503;
    server = createServer((request, response) => {
      response.statusCode = request.url === "/healthz" ? status : 404;
      response.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    // the minimal registry, with the cache container's host on this machine and an HTTP check
    dir = await mkdtemp(join(tmpdir(), "probe-"));
    const file = join(dir, "registry.yaml");
    const yaml = (await readFile(new URL("../fixtures/registry/minimal.yaml", import.meta.url), "utf8"))
      .replace("address: 10.0.0.1", "address: 127.0.0.1")
      .replace(
        "health_check: { type: exec, command: [redis-cli, ping] }",
        `health_check: { type: http, path: /healthz, port: ${port} }`,
      );
    await writeFile(file, yaml);
    const probe = registryProbe(await loadRegistry(file), 1_000);

    const { deps, actionId, escalations, cooldowns } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { probe },
    );
    expect(await executeAction(deps, actionId)).toBe("verifying");
    // the container is back, but the service does not answer its health check yet
    expect(await verifyAction(deps, actionId, false)).toBe("pending");
    expect(await verifyAction(deps, actionId, true)).toBe("failed");
    const url = `http://127.0.0.1:${port}/healthz`;
    expect((await getAction(db.pool, actionId))?.result).toMatchObject({
      error: `not recovered before the deadline: GET ${url} → 503`,
    });
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("failed");
    expect(escalations).toEqual([
      {
        incidentId: INCIDENT,
        detail: `RESTART_CONTAINER failed: not recovered before the deadline: GET ${url} → 503`,
      },
    ]);
    const failure = (await listEvents(db.pool, INCIDENT)).find((event) => event.kind === "execution_failed");
    expect(failure?.detail["reason"]).toEqual({
      code: "not_recovered",
      waiting: `GET ${url} → 503`,
      said: { code: "probe_answered", url, status: 503 },
    });
    expect(cooldowns).toHaveLength(1);
    // a late verify job for the same action changes nothing and escalates nothing more
    expect(await verifyAction(deps, actionId, true)).toBe("skipped");
    expect(escalations).toHaveLength(1);
    expect((await auditTrail(db.pool, INCIDENT)).map((entry) => entry.outcome)).toContain("failed");

    status = 200;
    expect(await httpProbe(url, 1_000)).toEqual({
      ok: true,
      url,
      detail: `GET ${url} → 200`,
      said: { code: "probe_answered", url, status: 200 },
    });
  });

  it("resolves once the executor and the HTTP probe both say recovered", async () => {
    server = createServer((_request, response) => {
      response.statusCode = 204;
      response.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    const { deps, actionId } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { probe: () => httpProbe(url, 1_000) },
    );
    await executeAction(deps, actionId);
    expect(await verifyAction(deps, actionId, false)).toBe("recovered");
    const incident = await getIncident(db.pool, INCIDENT);
    expect(incident?.status).toBe("resolved");
    const verified = (await listEvents(db.pool, INCIDENT)).find((event) => event.kind === "verified");
    expect(verified?.detail.detail).toBe(`running since 12:00:05 (healthy); GET ${url} → 204`);
  });

  it("reports a probe nobody answers as a failure, not an exception", async () => {
    const url = `${await closedPortUrl()}/healthz`;
    const result = await httpProbe(url, 500);
    expect(result).toMatchObject({ ok: false, url });
    expect(result.detail).toMatch(/failed: .*ECONNREFUSED/);
  });
});

describe("dry run", () => {
  it("leaves the incident open, not executing forever, once the dry run reported its calls", async () => {
    const { deps, actionId } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { dryRun: true },
    );
    await db.pool.query(`UPDATE incidents SET status = 'executing' WHERE id = $1`, [INCIDENT]);
    expect(await executeAction(deps, actionId)).toBe("dry_run");
    expect((await getAction(db.pool, actionId))?.status).toBe("succeeded");
    // nothing changed: the incident is as open as before, and a person (or a new analysis) takes it on
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("open");
  });
});

describe("the sweep of stuck actions", () => {
  const age = (actionId: number, seconds: number) =>
    db.pool.query(`UPDATE pending_actions SET updated_at = now() - make_interval(secs => $2) WHERE id = $1`, [
      actionId,
      seconds,
    ]);

  it("queues again an approved action whose execute job was lost, and leaves a fresh one alone", async () => {
    const { deps, actionId } = await setUp({ execute: () => Promise.resolve(), verify: recovered });
    const queued: number[] = [];
    const sweep = () =>
      sweepActions({
        execute: deps,
        enqueueExecution: (id) => Promise.resolve(queued.push(id)),
        verifyWithinMs: 60_000,
        graceMs: 30_000,
      });
    expect(await sweep()).toEqual({ requeued: [], abandoned: [], concluded: [] });
    await age(actionId, 31);
    expect(await sweep()).toEqual({ requeued: [actionId], abandoned: [], concluded: [] });
    expect(queued).toEqual([actionId]);
    // the requeued job runs it once, like the lost one would have
    expect(await executeAction(deps, actionId)).toBe("verifying");
    expect(await executeAction(deps, actionId)).toBe("skipped");
  });

  it("fails and escalates an execution that outlived its timeout, never running it again", async () => {
    const { deps, actionId, escalations, cooldowns } = await setUp({
      execute: () => Promise.resolve(),
      verify: recovered,
    });
    // a worker moved it to executing, then died
    await db.pool.query(`UPDATE pending_actions SET status = 'executing' WHERE id = $1`, [actionId]);
    await age(actionId, 5 + 30 - 1);
    const sweep = () =>
      sweepActions({
        execute: deps,
        enqueueExecution: () => Promise.reject(new Error("must not queue")),
        verifyWithinMs: 60_000,
        graceMs: 30_000,
      });
    // 5 s timeout + 30 s grace not yet passed
    expect((await sweep()).abandoned).toEqual([]);
    await age(actionId, 5 + 30 + 1);
    expect((await sweep()).abandoned).toEqual([actionId]);
    const action = await getAction(db.pool, actionId);
    expect(action?.status).toBe("failed");
    expect(String(action?.result?.error)).toContain("it may have changed something, so it is not run again");
    expect(await historyIn("zh-TW")).toContain("執行超過時限仍未結束（執行程序遺失？）");
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("failed");
    expect(escalations).toHaveLength(1);
    expect(cooldowns).toHaveLength(1);
    // a second sweep finds nothing to do
    expect(await sweep()).toEqual({ requeued: [], abandoned: [], concluded: [] });
  });

  it("concludes a verification whose verify jobs were lost, at its deadline", async () => {
    const { deps, actionId, escalations } = await setUp({
      execute: () => Promise.resolve(),
      verify: pending,
    });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    await age(actionId, 60 + 30 + 1);
    const swept = await sweepActions({
      execute: deps,
      enqueueExecution: () => Promise.reject(new Error("must not queue")),
      verifyWithinMs: 60_000,
      graceMs: 30_000,
    });
    expect(swept.concluded).toEqual([actionId]);
    expect(await getAction(db.pool, actionId)).toMatchObject({
      status: "failed",
      result: { error: "not recovered before the deadline: container is restarting" },
    });
    expect(escalations).toHaveLength(1);
  });
});

describe("an action with no executor here", () => {
  it("is refused as configuration, not failed as a repair: no escalation, no cool-off, no lesson", async () => {
    const { deps, actionId, escalations, cooldowns } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      {
        executors: bindExecutors([]),
        cannotRun: () => "no Docker engine is configured (DOCKER_HOST is not set)",
      },
    );
    expect(await executeAction(deps, actionId)).toBe("failed");
    expect(await getAction(db.pool, actionId)).toMatchObject({
      status: "failed",
      result: {
        error: "RESTART_CONTAINER can't run here: no Docker engine is configured (DOCKER_HOST is not set)",
        configuration: true,
      },
    });
    // back to waiting for a person, not "repair failed"
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("open");
    expect(escalations).toEqual([]);
    expect(cooldowns).toEqual([]);
    expect((await listPlaybooks(db.pool, { limit: 5 })).items).toEqual([]);
    expect((await auditTrail(db.pool, INCIDENT)).map((entry) => entry.outcome)).toEqual(["cannot_run"]);
    const failure = (await listEvents(db.pool, INCIDENT)).find((event) => event.kind === "execution_failed");
    expect(failure?.detail["reason"]).toEqual({
      code: "cannot_run",
      action: "RESTART_CONTAINER",
      why: "no Docker engine is configured (DOCKER_HOST is not set)",
    });
  });

  it("says the catalogue's own reason in BOT_LANGUAGE when nobody said why", async () => {
    const { deps, actionId } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { executors: bindExecutors([]) },
    );
    expect(await executeAction(deps, actionId)).toBe("failed");
    expect(await getAction(db.pool, actionId)).toMatchObject({
      result: { error: "RESTART_CONTAINER can't run here: no executor is configured for it" },
    });
    expect(await historyIn("en")).toContain(
      "RESTART_CONTAINER can't run here: no executor is configured for it",
    );
    const chinese = await historyIn("zh-TW");
    expect(chinese).toContain(messagesFor("zh-TW").cannotRun.noExecutor);
    expect(chinese).not.toContain("no executor is configured");
  });
});

describe("the target says no", () => {
  // The API server's own 403 message, as @kubernetes/client-node hands it over.
  const FORBIDDEN =
    'pods "cache-redis-1" is forbidden: User "system:serviceaccount:chatops:bot" cannot create resource "pods/eviction" in API group "" in the namespace "shop"';
  /** An executor whose execute says no the way the cluster does: a 403, or a disruption budget. */
  const refusing = (outcome: "forbidden" | "budget"): Executor<{ container: string }, object> => ({
    ...testExecutor({ execute: () => Promise.resolve(), verify: recovered }),
    async execute(_deps, p) {
      await Promise.resolve();
      if (outcome === "forbidden") throw new KubeError("forbidden", FORBIDDEN, 403);
      const notNow = {
        deployment: "shop-web",
        detail: "The disruption budget shop-web needs 2 healthy pods",
      };
      return { changed: false, calls: this.plan(p), before: {}, notNow };
    },
  });
  it("records a 403 in English for the audit log, and says it on the card in BOT_LANGUAGE", async () => {
    const { deps, actionId, escalations } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { executors: bindExecutors([bindExecutor(refusing("forbidden"), {})]) },
    );
    expect(await executeAction(deps, actionId)).toBe("failed");
    const english =
      "RESTART_CONTAINER refused by the cluster: RBAC: system:serviceaccount:chatops:bot may not create pods/eviction in shop. Nothing changed; grant it in the Role (deploy/k8s/base/rbac.yaml) or act by hand.";
    expect(
      (await auditTrail(db.pool, INCIDENT)).map((entry) => [entry.outcome, entry.detail["error"]]),
    ).toEqual([["forbidden", english]]);
    expect(escalations).toEqual([]);
    expect(await historyIn("en")).toContain(`⛔ ${english}`);
    const chinese = await historyIn("zh-TW");
    expect(chinese).toContain(
      "⛔ RESTART_CONTAINER 遭叢集拒絕：RBAC 不允許 system:serviceaccount:chatops:bot create pods/eviction（命名空間 shop）",
    );
    expect(chinese).not.toContain("refused by the cluster");
  });

  it("says a disruption budget's 'not now' in BOT_LANGUAGE, quoting the budget's own words", async () => {
    const { deps, actionId, cooldowns } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { executors: bindExecutors([bindExecutor(refusing("budget"), {})]) },
    );
    expect(await executeAction(deps, actionId)).toBe("failed");
    expect(cooldowns).toHaveLength(1);
    expect(await historyIn("en")).toContain(
      "⛔ RESTART_CONTAINER not now: budget: a PodDisruptionBudget allows no disruption of shop-web (The disruption budget shop-web needs 2 healthy pods). Nothing changed; try again once the budget allows it.",
    );
    const chinese = await historyIn("zh-TW");
    expect(chinese).toContain(
      "⛔ RESTART_CONTAINER 暫不執行：PodDisruptionBudget 目前不允許中斷 shop-web（The disruption budget shop-web needs 2 healthy pods）",
    );
    expect(chinese).not.toContain("not now");
  });

  it("fails a verification the cluster forbids, saying so in BOT_LANGUAGE", async () => {
    const forbiddenRead: Executor<{ container: string }, object> = {
      ...testExecutor({ execute: () => Promise.resolve(), verify: recovered }),
      verify: () => Promise.reject(new KubeError("forbidden", FORBIDDEN.replace("create", "get"), 403)),
    };
    const { deps, actionId } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { executors: bindExecutors([bindExecutor(forbiddenRead, {})]) },
    );
    expect(await executeAction(deps, actionId)).toBe("verifying");
    expect(await verifyAction(deps, actionId, false)).toBe("failed");
    expect(await historyIn("en")).toContain(
      "verify RESTART_CONTAINER refused by the cluster: RBAC: system:serviceaccount:chatops:bot may not get pods/eviction in shop.",
    );
    expect(await historyIn("zh-TW")).toContain("驗證 RESTART_CONTAINER 遭叢集拒絕：RBAC 不允許");
  });
});

describe("the executor's own words on the card", () => {
  /** The test executor with a guard that refuses the way RESTART_CONTAINER's does. */
  const refusedByGuard: Executor<{ container: string }, object> = {
    ...testExecutor({ execute: () => Promise.resolve(), verify: recovered }),
    guard: () =>
      Promise.resolve(
        refusal("container-allow-list", { code: "container_not_allowed", container: "cache-redis" }),
      ),
  };

  it("says a guard's refusal in BOT_LANGUAGE and keeps its English for the audit log", async () => {
    const { deps, actionId, escalations } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { executors: bindExecutors([bindExecutor(refusedByGuard, {})]) },
    );
    expect(await executeAction(deps, actionId)).toBe("failed");
    const english = "guard container-allow-list: container cache-redis is not on the allow-list";
    expect((await getAction(db.pool, actionId))?.result).toMatchObject({ error: english });
    expect((await auditTrail(db.pool, INCIDENT)).map((entry) => entry.detail["error"])).toEqual([english]);
    expect(escalations).toEqual([{ incidentId: INCIDENT, detail: `RESTART_CONTAINER failed: ${english}` }]);
    expect(await historyIn("en")).toContain(`❌ RESTART_CONTAINER failed: ${english}`);
    const chinese = await historyIn("zh-TW");
    expect(chinese).toContain(
      "❌ RESTART_CONTAINER 失敗：防護檢查 container-allow-list 未通過：容器 cache-redis 不在允許清單中",
    );
    expect(chinese).not.toContain("is not on the allow-list");
  });

  it("says an execute that failed in the executor's own words in BOT_LANGUAGE, quoting the output", async () => {
    const failure = new ExecutionFailure({
      code: "command_failed",
      action: "RENEW_CERT",
      program: "/usr/bin/certbot",
      ended: "exited",
      seconds: 60,
      signal: "",
      exitCode: 3,
      output: "too many certificates already issued",
    });
    const { deps, actionId } = await setUp({ execute: () => Promise.reject(failure), verify: recovered });
    expect(await executeAction(deps, actionId)).toBe("failed");
    const english =
      "execution failed: RENEW_CERT: /usr/bin/certbot exited with 3: too many certificates already issued";
    expect((await getAction(db.pool, actionId))?.result).toMatchObject({ error: english });
    expect(await historyIn("en")).toContain(`❌ RESTART_CONTAINER failed: ${english}`);
    expect(await historyIn("zh-TW")).toContain(
      "❌ RESTART_CONTAINER 失敗：執行失敗：RENEW_CERT：/usr/bin/certbot 以結束碼 3 結束：too many certificates already issued",
    );
  });

  it("says what a recovered verification saw in BOT_LANGUAGE, each piece of evidence", async () => {
    const { deps, actionId } = await setUp({ execute: () => Promise.resolve(), verify: recovered });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    await markResolved(db.pool, INCIDENT, new Date());
    expect(await verifyAction(deps, actionId, false)).toBe("recovered");
    const english = "running since 12:00:05 (healthy); the alert resolved";
    expect(
      (await auditTrail(db.pool, INCIDENT)).find((entry) => entry.outcome === "recovered")?.detail,
    ).toMatchObject({
      detail: english,
    });
    expect(await historyIn("en")).toContain(`🩺 verified: ${english}`);
    expect(await historyIn("zh-TW")).toContain("🩺 已驗證：自 12:00:05 起執行中（健康）；告警已解除");
  });

  it("says what a verification still waited for at the deadline in BOT_LANGUAGE", async () => {
    const { deps, actionId } = await setUp({ execute: () => Promise.resolve(), verify: pending });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    expect(await verifyAction(deps, actionId, true)).toBe("failed");
    expect(await historyIn("en")).toContain(
      "❌ RESTART_CONTAINER failed: not recovered before the deadline: container is restarting",
    );
    const chinese = await historyIn("zh-TW");
    // Docker's status is quoted as the engine said it
    expect(chinese).toContain("❌ RESTART_CONTAINER 失敗：期限前未恢復：容器狀態為 restarting");
    expect(chinese).not.toContain("container is");
  });

  it("says a target it could not read in BOT_LANGUAGE, quoting the error", async () => {
    const unreadable: Executor<{ container: string }, object> = {
      ...testExecutor({ execute: () => Promise.resolve(), verify: recovered }),
      verify: () => Promise.reject(new Error("connect ECONNREFUSED /var/run/docker.sock")),
    };
    const { deps, actionId } = await setUp(
      { execute: () => Promise.resolve(), verify: recovered },
      { executors: bindExecutors([bindExecutor(unreadable, {})]) },
    );
    expect(await executeAction(deps, actionId)).toBe("verifying");
    expect(await verifyAction(deps, actionId, false)).toBe("pending");
    expect(await verifyAction(deps, actionId, true)).toBe("failed");
    expect((await getAction(db.pool, actionId))?.result).toMatchObject({
      error:
        "not recovered before the deadline: cannot read the target: connect ECONNREFUSED /var/run/docker.sock",
    });
    expect(await historyIn("zh-TW")).toContain(
      "期限前未恢復：無法讀取目標：connect ECONNREFUSED /var/run/docker.sock",
    );
  });

  it("says a failed verification in BOT_LANGUAGE and keeps its English for the escalation", async () => {
    const { deps, actionId, escalations } = await setUp({
      execute: () => Promise.resolve(),
      verify: () => verdict("failed", { code: "container_unhealthy" }),
    });
    expect(await executeAction(deps, actionId)).toBe("verifying");
    expect(await verifyAction(deps, actionId, false)).toBe("failed");
    expect(escalations).toEqual([
      { incidentId: INCIDENT, detail: "RESTART_CONTAINER failed: container is unhealthy" },
    ]);
    expect(await historyIn("en")).toContain("❌ RESTART_CONTAINER failed: container is unhealthy");
    expect(await historyIn("zh-TW")).toContain("❌ RESTART_CONTAINER 失敗：容器不健康");
  });

  it("says a re-check at execute time in BOT_LANGUAGE, the guard's words and the executor's own", async () => {
    const failure = new ExecutionFailure({
      code: "rechecked",
      action: "RESTART_CONTAINER",
      reason: "no container named cache-redis",
      guard: { code: "container_missing", container: "cache-redis" },
    });
    const { deps, actionId } = await setUp({ execute: () => Promise.reject(failure), verify: recovered });
    expect(await executeAction(deps, actionId)).toBe("failed");
    const english = "execution failed: RESTART_CONTAINER: no container named cache-redis";
    expect((await getAction(db.pool, actionId))?.result).toMatchObject({ error: english });
    expect(await historyIn("en")).toContain(`❌ RESTART_CONTAINER failed: ${english}`);
    const chinese = await historyIn("zh-TW");
    expect(chinese).toContain(
      "❌ RESTART_CONTAINER 失敗：執行失敗：RESTART_CONTAINER：找不到名為 cache-redis 的容器",
    );
    expect(chinese).not.toContain("no container named");
  });

  it("says an executor's own execute-time words in BOT_LANGUAGE, quoting the names", async () => {
    const failure = new ExecutionFailure({
      code: "no_container",
      action: "RESTART_CONTAINER",
      container: "cache-redis",
    });
    const { deps, actionId } = await setUp({ execute: () => Promise.reject(failure), verify: recovered });
    expect(await executeAction(deps, actionId)).toBe("failed");
    expect(await historyIn("en")).toContain(
      "❌ RESTART_CONTAINER failed: execution failed: RESTART_CONTAINER: no container named cache-redis",
    );
    expect(await historyIn("zh-TW")).toContain(
      "❌ RESTART_CONTAINER 失敗：執行失敗：RESTART_CONTAINER：沒有名為 cache-redis 的容器",
    );
  });

  it("keeps the recorded English of events stored before the executor's words were kept", async () => {
    await setUp({ execute: () => Promise.resolve(), verify: recovered });
    await addEvent(db.pool, INCIDENT, "execution_failed", {
      action: "RESTART_CONTAINER",
      error: "guard container-exists: no container named cache-redis",
      reason: { code: "guard", rule: "container-exists", reason: "no container named cache-redis" },
    });
    await addEvent(db.pool, INCIDENT, "verified", {
      action: "RESTART_CONTAINER",
      detail: "running since 12:00:05 (healthy)",
    });
    const chinese = await historyIn("zh-TW");
    expect(chinese).toContain("防護檢查 container-exists 未通過：no container named cache-redis");
    expect(chinese).toContain("🩺 已驗證：running since 12:00:05 (healthy)");
  });
});
