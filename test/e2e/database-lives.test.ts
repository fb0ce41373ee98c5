// Two lives of the database on one Redis prefix: a database rebuilt from nothing (or a second
// installation sharing REDIS_PREFIX) numbers its incidents and actions from 1 again, so the
// names `INC-…-0001` and action 1 repeat. Before the installation id, the second life's first
// incident got no analysis (the first life's `auto-INC-…-0001` job id already existed), its alert
// was taken for a repeat (the dedup key named the old incident), and the first life's delayed
// escalation acted on the new row. Now the second life behaves exactly like the first, and the
// old life's jobs are left where they are, untouched, with one warning at start-up.
import { Writable } from "node:stream";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { getIncident } from "../../db/incidents.js";
import { installationId } from "../../db/installation.js";
import { listAnalyses } from "../../db/analyses.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import { QUEUE_NAMES, queuePrefix } from "../../jobs/queues.js";

const prefix = uniquePrefix();
const redis = new Redis(TEST_REDIS_URL);
afterAll(async () => {
  await deleteKeys(prefix);
  redis.disconnect();
});

function captured() {
  const lines: { msg: string; others?: string[] }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, stream) };
}

interface Life {
  installation: string;
  incidentId: string;
  cards: number;
  analyses: number;
  escalated: boolean;
}

/** One life: a fresh database, one alert, its card and its analysis. */
async function live(stack: Stack): Promise<Life> {
  const response = await postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint: "one-alert-two-lives" }),
    alertmanagerAuth,
  );
  expect(response.status).toBe(202);
  const [card] = await waitForChat(stack.telegram, (messages) => messages.length === 1);
  const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
  await expect
    .poll(async () => (await listAnalyses(stack.db.pool, incidentId)).length, { timeout: 15_000 })
    .toBe(1);
  const incident = await getIncident(stack.db.pool, incidentId);
  return {
    installation: await installationId(stack.db.pool),
    incidentId,
    cards: stack.telegram.messages(CHAT_ID).length,
    analyses: (await listAnalyses(stack.db.pool, incidentId)).length,
    escalated: incident?.escalatedAt !== null,
  };
}

describe("a database rebuilt under the same REDIS_PREFIX", () => {
  it("lives its second life like its first, and the first life's jobs never touch the new rows", async () => {
    const first = await startStack({ env: { REDIS_PREFIX: prefix } });
    let firstLife: Life;
    try {
      firstLife = await live(first);
    } finally {
      await first.close();
    }
    expect(firstLife).toMatchObject({ cards: 1, analyses: 1, escalated: false });

    // The first life left its SLA escalation delayed in Redis: make it due now, as if the rebuild
    // took as long as the SLA, so a worker that could see it would escalate at once.
    const oldEscalations = new Queue(QUEUE_NAMES.escalate, {
      connection: redis,
      prefix: queuePrefix({ prefix, installation: firstLife.installation }, QUEUE_NAMES.escalate),
    });
    try {
      const [stale] = await oldEscalations.getDelayed();
      expect(stale?.data).toMatchObject({ incidentId: firstLife.incidentId, reason: "sla" });
      await stale?.promote();

      const log = captured();
      const second = await startStack({ env: { REDIS_PREFIX: prefix }, logger: log.logger });
      try {
        const secondLife = await live(second);
        // the same incident id, its own card, its own analysis; nothing escalated
        expect(secondLife.installation).not.toBe(firstLife.installation);
        expect(secondLife).toEqual({ ...firstLife, installation: secondLife.installation });
        expect(await stale?.getState()).toBe("waiting");
        expect((await getIncident(second.db.pool, secondLife.incidentId))?.escalatedAt).toBeNull();
        expect(log.lines.filter((line) => line.msg.includes("another database"))).toEqual([
          expect.objectContaining({ others: [firstLife.installation] }),
        ]);
      } finally {
        await second.close();
      }
    } finally {
      await oldEscalations.close();
    }
  });
});
