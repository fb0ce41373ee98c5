// The chat commands through the Telegram emulator on the whole stack, without Kubernetes:
// setMyCommands at start-up, /help, /status with a configured but dead Ollama, /incidents
// paginated and opening a drill-down, the drill-down from a card's Details button through every
// section, and /rollback refused without KUBECONFIG or approver rights.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InlineKeyboardButton } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisChainSettings } from "../../kv/chain-settings.js";
import { insertIncident, nextIncidentId } from "../../db/incidents.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import {
  alertmanagerAuth,
  CHAT_ID,
  postJson,
  startStack,
  waitForChat,
  showsAnalysis,
  type Stack,
} from "../../dev/stack.js";
import { button, buttons, chatUser } from "../support/chat-user.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";

const APPROVER = 1001;
const OUTSIDER = 4242;

let stack: Stack;
let deadOllama: string;

/** A port nothing listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

let targetsDir: string;

beforeAll(async () => {
  deadOllama = `http://127.0.0.1:${await closedPort()}`;
  // the executors' targets file: a live cache, a database nobody serves, a log directory, and a
  // renewal command that is not installed
  targetsDir = await mkdtemp(join(tmpdir(), "status-targets-"));
  await writeFile(
    join(targetsDir, "auto-repair.yaml"),
    [
      "clear_cache: { sessions: { url: 'redis://127.0.0.1:6379/11' } }",
      `vacuum_db: { gone: { url: 'postgresql://postgres@127.0.0.1:${await closedPort()}/postgres', tables: [public.events] } }`,
      `cleanup_logs: { directories: ['${targetsDir}'] }`,
      "renew_cert: { api: { command: [/nonexistent/certbot, renew] } }",
    ].join("\n"),
  );
  stack = await startStack({
    env: {
      OLLAMA_HOST: deadOllama,
      TELEGRAM_APPROVER_IDS: String(APPROVER),
      AUTO_REPAIR_CONFIG: join(targetsDir, "auto-repair.yaml"),
      OLLAMA_MODEL: "qwen2.5:7b",
      OLLAMA_FALLBACK_MODEL: "qwen2.5:1.5b",
    },
    // Telegram's flood limits lifted: this file is about the commands, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
  });
});
afterAll(async () => {
  await stack?.close();
  await rm(targetsDir, { recursive: true, force: true });
});

const { say, press } = chatUser(() => stack, APPROVER);

/** The current state of a message, once `predicate` holds for it. */
async function until(
  message: EmulatedMessage,
  predicate: (m: EmulatedMessage) => boolean,
): Promise<EmulatedMessage> {
  let current: EmulatedMessage | undefined;
  await expect
    .poll(
      () => {
        current = stack.telegram.message(CHAT_ID, message.message_id);
        return current !== undefined && predicate(current);
      },
      { timeout: 5_000 },
    )
    .toBe(true);
  return current as EmulatedMessage;
}

describe("start-up", () => {
  it("registers the six commands with Telegram", async () => {
    await stack.telegram.waitFor((call) => call.method === "setMyCommands" && call.status === "ok", 10_000);
    const call = stack.telegram.callsOf("setMyCommands").at(-1);
    const raw = call?.params.commands;
    const commands = (typeof raw === "string" ? JSON.parse(raw) : raw) as {
      command: string;
      description: string;
    }[];
    expect(commands.map((c) => c.command)).toEqual([
      "status",
      "incidents",
      "ack",
      "silence",
      "rollback",
      "whoami",
      "help",
    ]);
    for (const command of commands) expect(command.description.length).toBeGreaterThan(10);
  });
});

describe("/help", () => {
  it("lists every command with its usage and which need approver rights", async () => {
    const reply = await say("/help");
    for (const usage of [
      "/status",
      "/incidents",
      "/silence service=awoooi-api 2h [reason]",
      "/silence list",
      "/silence expire <id>",
      "/rollback <namespace>/<deployment>",
      "/help",
    ]) {
      expect(reply.text).toContain(usage);
    }
    const lines = reply.text.split("\n");
    const approverOnly = lines.filter((line) => line.includes("approvers only"));
    expect(approverOnly.some((line) => /silence/i.test(line))).toBe(true);
    expect(approverOnly.some((line) => /roll a deployment back/i.test(line))).toBe(true);
    expect(approverOnly.some((line) => /health of redis/i.test(line))).toBe(false);
  });
});

describe("/status", () => {
  it("reports every dependency, and a configured but dead Ollama as unreachable within seconds", async () => {
    await insertIncident(
      stack.db.pool,
      await nextIncidentId(stack.db.pool),
      {
        source: "sentry",
        fingerprint: "status-p0",
        title: "Status check",
        severity: "P0",
        labels: {},
        annotations: {},
        links: [],
      },
      new Date(),
    );
    // SWITCH_MODEL ran a while ago
    await new RedisChainSettings(stack.runtime.redis, stack.prefix).setOllamaModel("qwen2.5:1.5b", 600);
    const started = Date.now();
    const reply = await say("/status", (m) => m.text.includes("Status"));
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(reply.text).toContain("🟢 Redis: reachable");
    expect(reply.text).toContain("🟢 PostgreSQL: reachable");
    expect(reply.text).toContain("⚫ SigNoz: not configured");
    for (const queue of ["ingest", "notify", "analyze", "execute", "escalate"]) {
      expect(reply.text).toMatch(new RegExp(`${queue}: \\d+ / \\d+ / \\d+ / \\d+`));
    }
    expect(reply.text).toMatch(/🔴 Ollama: unreachable \(.+\)/);
    expect(reply.text).toContain("⚫ Gemini: not configured");
    expect(reply.text).toContain("⚫ Claude: not configured");
    expect(reply.text).toContain("⚫ Docker: not configured");
    expect(reply.text).toContain("⚫ Kubernetes: not configured");
    expect(reply.text).toContain("Open incidents: 1 (P0 critical 1, P1 high 0, P2 medium 0)");
    expect(reply.text).toContain("Automatic repairs: 0/5 this hour");
    expect(reply.text).toMatch(
      /↪️ Ollama model switched to qwen2\.5:1\.5b \(SWITCH_MODEL, until (?:[A-Z][a-z]{2} \d{1,2} )?\d\d:\d\d UTC\)/,
    );
    expect(reply.text).toContain("🟢 Redis cache sessions: reachable");
    expect(reply.text).toMatch(/🔴 PostgreSQL gone: unreachable \(.*ECONNREFUSED.*\)/);
    expect(reply.text).toContain(`🟢 Log directory ${targetsDir}: reachable`);
    expect(reply.text).toMatch(/🔴 Certificate api: unreachable \(.*ENOENT.*\)/);
  });
});

describe("/incidents", () => {
  it("pages through every open incident, even those that never had a card, and opens a drill-down", async () => {
    const ids: string[] = [];
    for (let index = 0; index < 10; index++) {
      const id = await nextIncidentId(stack.db.pool);
      await insertIncident(
        stack.db.pool,
        id,
        {
          source: "alertmanager",
          fingerprint: `listed-${index}`,
          title: `Listed alert ${index}`,
          severity: index % 2 === 0 ? "P1" : "P2",
          service: `svc-${index}`,
          labels: { alertname: `Listed${index}` },
          annotations: {},
          links: [],
        },
        new Date(),
      );
      ids.push(id);
    }
    const open = await stack.db.pool.query<{ total: number }>(
      "SELECT count(*)::int AS total FROM incidents WHERE status <> 'resolved'",
    );
    const total = open.rows[0]?.total ?? 0;
    const pages = Math.ceil(total / 8);
    expect(pages).toBeGreaterThanOrEqual(2);

    const list = await say("/incidents", (m) => m.text.includes("Open incidents"));
    expect(list.text).toContain(`Open incidents: ${total} · page 1/${pages}`);
    const firstPage = buttons(list).filter((b) => /INC|\d{8}-\d{4}/.test(b.text));
    expect(firstPage).toHaveLength(8);
    // newest first: the last inserted is the first row
    expect(firstPage[0]?.text).toContain(ids[9]?.replace(/^INC-/, ""));

    await press(list, button(list, "▶").callback_data);
    const second = await until(list, (m) => m.text.includes(`page 2/${pages}`));
    const secondRows = buttons(second).filter((b) => /\d{8}-\d{4}/.test(b.text));
    expect(secondRows.length).toBeGreaterThan(0);
    expect(secondRows.map((b) => b.text)).not.toContain(firstPage[0]?.text);
    expect(button(second, `2/${pages}`)).toBeDefined();

    await press(second, button(second, "◀").callback_data);
    const back = await until(list, (m) => m.text.includes(`page 1/${pages}`));
    const target = ids[8] ?? "";
    const row = button(back, new RegExp(target.replace(/^INC-/, "")));
    await press(back, row.callback_data, OUTSIDER);
    const [details] = await waitForChat(stack.telegram, (all) =>
      all.some((m) => m.from_bot && m.text.includes(`🔎 ${target}`)),
    ).then((all) => all.filter((m) => m.text.includes(`🔎 ${target}`)));
    expect(details?.text).toContain("Listed alert 8");
    expect(details?.text).toContain("— 📋 Overview —");
    expect(details?.text).toContain("Service: svc-8");
  });
});

describe("/incidents when the list moves", () => {
  it("redraws the list instead of opening a neighbour when an incident arrived meanwhile", async () => {
    const list = await say("/incidents", (m) => m.text.includes("Open incidents"));
    const total = Number(/Open incidents: (\d+)/.exec(list.text)?.[1]);
    const firstRow = buttons(list)[0] as InlineKeyboardButton.CallbackButton;
    await insertIncident(
      stack.db.pool,
      await nextIncidentId(stack.db.pool),
      {
        source: "alertmanager",
        fingerprint: "late-arrival",
        title: "Late arrival",
        severity: "P0",
        labels: {},
        annotations: {},
        links: [],
      },
      new Date(),
    );
    const drillsBefore = stack.telegram.messages(CHAT_ID).filter((m) => m.text.startsWith("🔎")).length;
    const answer = await press(list, firstRow.callback_data);
    expect(answer.text).toBe("The list changed; here it is again.");
    const redrawn = await until(list, (m) => buttons(m)[0]?.text.includes("Late arrival") ?? false);
    expect(redrawn.text).toContain(`Open incidents: ${total + 1}`);
    expect(stack.telegram.messages(CHAT_ID).filter((m) => m.text.startsWith("🔎"))).toHaveLength(
      drillsBefore,
    );
  });
});

describe("the drill-down from a card", () => {
  it("shows each section on Details, edits in place, and closes on Done", async () => {
    await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      alertmanagerPayload({ fingerprint: "drill-card" }),
      alertmanagerAuth,
    );
    const card = (
      await waitForChat(
        stack.telegram,
        (all) =>
          all.some(
            (m) => m.text.includes("AWOOOIAPIDown") && buttons(m).some((b) => b.text === "🔎 Details"),
          ),
        15_000,
      )
    ).find((m) => m.text.includes("AWOOOIAPIDown"));
    const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    expect(button(card, "🔎 Details").callback_data).toBe(`v1:details:${incidentId}`);
    // the analysis is stored once the card shows it
    await until(card as EmulatedMessage, (m) => showsAnalysis(m.text));

    // anyone may look
    const answer = await press(card as EmulatedMessage, `v1:details:${incidentId}`, OUTSIDER);
    expect(answer.text).toBeUndefined();
    const drill = (
      await waitForChat(stack.telegram, (all) => all.some((m) => m.text.startsWith(`🔎 ${incidentId}`)))
    ).find((m) => m.text.startsWith(`🔎 ${incidentId}`)) as EmulatedMessage;
    expect(drill.text).toContain("— 📋 Overview —");
    expect(drill.text).toContain("alertname=AWOOOIAPIDown");

    const sections: [string, string, (text: string) => void][] = [
      ["🕒 Timeline", "— 🕒 Timeline —", (text) => expect(text).toMatch(/opened|analyzed/)],
      [
        "🤖 Analysis",
        "— 🤖 Analysis —",
        (text) => {
          expect(text).toContain("Reasoning");
          expect(text).toContain("Cause:");
          expect(text).toMatch(/Decision: (approval|refused|auto|nothing_to_run)/);
          expect(text).toMatch(/[✅❌] namespace_allowed/);
        },
      ],
      [
        "📜 Logs & events",
        "— 📜 Logs & events —",
        (text) => expect(text).toContain("Kubernetes is not configured (no KUBECONFIG)"),
      ],
      ["🔁 Similar", "— 🔁 Similar —", (text) => expect(text).toMatch(/No similar past incidents|INC-/)],
      ["📚 Playbooks", "— 📚 Playbooks —", (text) => expect(text).toMatch(/No learned playbooks yet|worked/)],
    ];
    for (const [label, heading, check] of sections) {
      const current = stack.telegram.message(CHAT_ID, drill.message_id) as EmulatedMessage;
      await press(current, button(current, label).callback_data, OUTSIDER);
      const shown = await until(drill, (m) => m.text.includes(heading));
      expect(shown.text.length).toBeLessThanOrEqual(4096);
      check(shown.text);
    }
    // someone else pressing a section of this message gets their own drill-down, in place
    const shared = stack.telegram.message(CHAT_ID, drill.message_id) as EmulatedMessage;
    await press(shared, button(shared, "🕒 Timeline").callback_data, APPROVER);
    await until(drill, (m) => m.text.includes("— 🕒 Timeline —"));

    const current = stack.telegram.message(CHAT_ID, drill.message_id) as EmulatedMessage;
    const done = await press(current, button(current, "✖️ Done").callback_data, OUTSIDER);
    expect(done.text).toBe("Closed.");
    await until(drill, (m) => m.reply_markup === undefined || m.reply_markup.inline_keyboard.length === 0);
    // one message for the whole drill-down: it was edited, never re-posted
    expect(
      stack.telegram.messages(CHAT_ID).filter((m) => m.text.startsWith(`🔎 ${incidentId}`)),
    ).toHaveLength(1);
  });
});

describe("/rollback without Kubernetes", () => {
  it("tells an approver Kubernetes is not configured and creates nothing", async () => {
    const reply = await say("/rollback awoooi-prod/awoooi-api");
    expect(reply.text).toBe("Kubernetes is not configured (no KUBECONFIG): nothing to roll back.");
    const { rows } = await stack.db.pool.query("SELECT id FROM incidents WHERE source = 'chatops'");
    expect(rows).toHaveLength(0);
  });

  it("refuses someone who is not an approver", async () => {
    const reply = await say("/rollback awoooi-prod/awoooi-api", () => true, OUTSIDER);
    expect(reply.text).toBe("Only approvers may request a rollback.");
  });

  it("explains the usage when the target is malformed", async () => {
    const reply = await say("/rollback awoooi-api");
    expect(reply.text).toContain("Usage: /rollback <namespace>/<deployment>");
  });
});
