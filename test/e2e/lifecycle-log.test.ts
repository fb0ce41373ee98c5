// One alert followed through the log at the default level (info), as an operator would with
// `kubectl logs | grep INC-…`: accepted (with the request id and its job), opened, analysed (the
// provider and the decision), its card posted, a press and what it decided. Before, the log at
// info never named an incident.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

interface Line {
  level: number;
  msg: string;
  incident?: string;
  job?: string;
  reqId?: string;
  [field: string]: unknown;
}

const lines: Line[] = [];
const logger = pino(
  { level: "info" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Line);
      done();
    },
  }),
);

let stack: Stack;
beforeAll(async () => {
  // Telegram's flood limits lifted: this file is about the log, not pacing (which
  // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
  stack = await startStack({ logger, telegram: { groupPerMinute: 1_000 } });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe("the life-cycle log", () => {
  it("names the incident and a request or job id at each step", async () => {
    const response = await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      alertmanagerPayload({ fingerprint: "followed-in-the-log" }),
      alertmanagerAuth,
    );
    expect(response.status).toBe(202);
    const jobId = (response.body as { jobId: string }).jobId;
    const [card] = await waitForChat(stack.telegram, (messages) => messages.length === 1);
    const incident = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    await expect
      .poll(() => lines.some((line) => line.msg === "incident analysed" && line.incident === incident), {
        timeout: 15_000,
      })
      .toBe(true);

    const accepted = lines.find((line) => line.msg === "alerts accepted");
    expect(accepted).toMatchObject({ level: 30, job: jobId, source: "alertmanager", alerts: 1, firing: 1 });
    expect(typeof accepted?.reqId).toBe("string");
    expect(lines.find((line) => line.msg === "incident opened")).toMatchObject({
      level: 30,
      incident,
      job: jobId,
    });
    const analysed = lines.find((line) => line.msg === "incident analysed");
    expect(analysed).toMatchObject({ level: 30, incident, provider: "offline" });
    expect(typeof analysed?.decision).toBe("string");
    expect(typeof analysed?.job).toBe("string");
    // the worker logs a job once BullMQ says it completed, which may come after the chat shows it
    await expect
      .poll(() => lines.find((line) => line.msg === "card posted"), { timeout: 5_000 })
      .toMatchObject({ level: 30, incident });

    const press = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card?.message_id ?? 0,
      fromUserId: 1001,
      username: "alice",
      data: `v1:snooze:${incident}`,
    });
    await expect.poll(() => stack.telegram.answerOf(press), { timeout: 5_000 }).toBeDefined();
    expect(lines.find((line) => line.msg === "button pressed")).toMatchObject({
      level: 30,
      incident,
      chat: CHAT_ID,
      message: card?.message_id,
      outcome: "on_card",
    });
    // no raw stack trace at info or above
    expect(lines.filter((line) => JSON.stringify(line).includes("\\n    at "))).toEqual([]);
  });
});
