// The loop closed for one action: an alert, an analysis proposing RESTART_CONTAINER, a press of
// Approve by an approver, a real restart on a real Docker engine, verification, a resolved card.
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail, latestAction } from "../../db/actions.js";
import { getIncident } from "../../db/incidents.js";
import { alertmanagerFiring } from "../../dev/alerts.js";
import { startDockerEngine, type DockerEngine } from "../support/docker-engine.js";
import { TEST_SECRETS } from "../../dev/env.js";
import {
  buttonData,
  alertmanagerAuth,
  CHAT_ID,
  postJson,
  startStack,
  waitForChat,
  type Stack,
} from "../../dev/stack.js";

let engine: DockerEngine;
let stack: Stack;
let container: Docker.Container;

beforeAll(async () => {
  engine = await startDockerEngine();
  container = await engine.docker.createContainer({
    name: "postgres",
    Image: engine.image,
    Cmd: ["sleep", "3600"],
    HostConfig: { Init: true, NetworkMode: "none" },
  });
  await container.start();
  stack = await startStack({
    env: { DOCKER_HOST: engine.dockerHost, TELEGRAM_APPROVER_IDS: "1001" },
    // Telegram's flood limits lifted: this file is about container restarts, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: { verify: { verifyEveryMs: 200, verifyWithinMs: 15_000 } },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await engine?.stop();
});

const startedAt = async () => (await container.inspect()).State.StartedAt;
const BEARER = { authorization: `Bearer ${TEST_SECRETS.apiToken}` };

describe("approving a proposed container restart", () => {
  let incidentId = "";
  let messageId = 0;

  it("proposes RESTART_CONTAINER for the container the alert names, waiting for approval", async () => {
    const payload = alertmanagerFiring();
    const [template] = payload.alerts;
    if (template === undefined) throw new Error("fixture has no alert");
    const labels = {
      alertname: "PostgreSQLDown",
      severity: "critical",
      service: "postgres",
      container: "postgres",
    };
    const response = await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      { ...payload, commonLabels: labels, alerts: [{ ...template, fingerprint: "pg-down", labels }] },
      alertmanagerAuth,
    );
    expect(response.status).toBe(202);
    const [card] = await waitForChat(
      stack.telegram,
      (all) => all[0]?.text.includes("needs approval") ?? false,
      15_000,
    );
    expect(card?.text).toContain("RESTART_CONTAINER · Container postgres");
    incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    messageId = card?.message_id ?? 0;
    await expect.poll(async () => (await latestAction(stack.db.pool, incidentId))?.status).toBe("pending");
    const pending = (await (
      await fetch(`${stack.url}/api/v1/approvals/pending`, { headers: BEARER })
    ).json()) as {
      pending: { incidentId: string; action: string; params: Record<string, unknown> }[];
    };
    expect(pending.pending).toEqual([
      expect.objectContaining({ incidentId, action: "RESTART_CONTAINER", params: { container: "postgres" } }),
    ]);
  });

  it("refuses a user who is not an approver, changing nothing", async () => {
    const before = await startedAt();
    const query = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId,
      fromUserId: 2002,
      data: buttonData(stack.telegram, messageId, "approve"),
    });
    await expect
      .poll(() => stack.telegram.answerOf(query)?.text, { timeout: 5_000 })
      .toBe("You are not on the approver list.");
    expect((await latestAction(stack.db.pool, incidentId))?.status).toBe("pending");
    expect(await startedAt()).toBe(before);
  });

  it("restarts the real container on an approver's press, verifies it, and resolves the card", async () => {
    const before = await startedAt();
    const first = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId,
      fromUserId: 1001,
      username: "alice",
      data: buttonData(stack.telegram, messageId, "approve"),
    });
    const second = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId,
      fromUserId: 1001,
      username: "alice",
      data: buttonData(stack.telegram, messageId, "approve"),
    });
    await expect
      .poll(() => [stack.telegram.answerOf(first)?.text, stack.telegram.answerOf(second)?.text].sort(), {
        timeout: 5_000,
      })
      .toEqual([
        "Approved: RESTART_CONTAINER. Running it now.",
        "Nothing is waiting for approval: RESTART_CONTAINER was already approved by @alice.",
      ]);
    const [card] = await waitForChat(
      stack.telegram,
      (all) => all[0]?.text.includes("RESOLVED") ?? false,
      20_000,
    );
    expect(await startedAt()).not.toBe(before);
    expect(card?.text).toContain("approved by @alice");
    expect(card?.text).toContain("verified");
    expect((await getIncident(stack.db.pool, incidentId))?.status).toBe("resolved");
    expect((await latestAction(stack.db.pool, incidentId))?.status).toBe("succeeded");
    const trail = (await auditTrail(stack.db.pool, incidentId)).map(
      (row) => `${row.actor} ${row.what}: ${row.outcome}`,
    );
    // each press is first recorded where it happened (on its card), then decided
    const decisions = trail.filter((row) => !row.endsWith("press: on_card"));
    expect(trail.filter((row) => row.endsWith("press: on_card"))).toEqual([
      "tg:2002 press: on_card",
      "@alice press: on_card",
      "@alice press: on_card",
    ]);
    expect(decisions).toEqual([
      "system decision on RESTART_CONTAINER: approval",
      "tg:2002 approve: not_allowed",
      ...decisions.slice(2, 4).sort(), // the two presses race; one wins
      "system RESTART_CONTAINER: executed",
      "system verify RESTART_CONTAINER: recovered",
    ]);
    expect(decisions.slice(2, 4).sort()).toEqual([
      "@alice approve RESTART_CONTAINER: approved",
      "@alice approve: nothing_pending",
    ]);
  });

  it("takes the same decision through POST /api/v1/execute, bearer token required", async () => {
    const execute = (body: unknown, headers: Record<string, string> = BEARER) =>
      postJson(`${stack.url}/api/v1/execute`, body, headers);
    expect((await execute({ incident_id: incidentId, approved_by: "bob" }, {})).status).toBe(401);
    expect((await execute({ incident_id: incidentId })).status).toBe(400);
    const again = await execute({ incident_id: incidentId, approved_by: "bob" });
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).toContain("Nothing is waiting");
    const detail = (await (
      await fetch(`${stack.url}/api/v1/incidents/${incidentId}`, { headers: BEARER })
    ).json()) as {
      audit: { actor: string }[];
    };
    expect(detail.audit.map((row) => row.actor)).toContain("api:bob");
  });

  it("shows the Docker engine reachable in /status", async () => {
    const sent = stack.telegram.sendUserMessage({ chatId: CHAT_ID, fromUserId: 1001, text: "/status" });
    const [reply] = (
      await waitForChat(stack.telegram, (all) =>
        all.some((m) => m.from_bot && m.message_id > sent.message_id && m.text.includes("Status")),
      )
    ).filter((m) => m.from_bot && m.message_id > sent.message_id);
    expect(reply?.text).toContain("🟢 Docker: reachable");
    expect(reply?.text).toContain("⚫ Kubernetes: not configured");
  });
});
