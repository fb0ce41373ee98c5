// The analyze job on real PostgreSQL and Redis: an analysis that fails for a reason retrying cannot
// fix ends in a visible state (the offline analyzer answers, or the card says it failed), and a job
// that runs again after its worker died stores nothing twice.
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { listAnalyses } from "../../db/analyses.js";
import { getIncident, insertIncident, listEvents } from "../../db/incidents.js";
import type { GuardrailPolicy } from "../../domain/decide.js";
import { createMetrics } from "../../gateways/metrics.js";
import type { AnalyzeDeps } from "../../handlers/analyze-incident.js";
import { buildIncidentCard } from "../../handlers/build-incident-card.js";
import { analyzeProcessor } from "../../jobs/analyze.processor.js";
import type { AnalyzeJob } from "../../jobs/queues.js";
import { RepairCountersStore } from "../../kv/repair-counters.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let db: TestDatabase;
let redis: Redis;
let prefix: string;
beforeEach(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL);
  prefix = uniquePrefix();
});
afterEach(async () => {
  await db.drop();
  redis.disconnect();
  await deleteKeys(prefix);
});

const INCIDENT = "INC-20261124-0001";
const POLICY: GuardrailPolicy = {
  enabled: false,
  maxPerHour: 5,
  maxPerResourcePerHour: 3,
  minConfidence: 0.85,
  maxAffectedPods: 3,
  minHealthyReplicas: 1,
  allowedNamespaces: ["awoooi-prod"],
  autoMaxRisk: "LOW",
};

async function incident() {
  await insertIncident(
    db.pool,
    INCIDENT,
    {
      source: "alertmanager",
      fingerprint: "fp-1",
      severity: "P1",
      title: "KubePodCrashLooping",
      labels: { alertname: "KubePodCrashLooping", namespace: "awoooi-prod", pod: "api-7d9f8b6c5-x2k4q" },
      annotations: {},
      links: [],
    },
    new Date(),
  );
}

function processor(overrides: Partial<AnalyzeDeps> = {}) {
  const cards: string[] = [];
  const analyze: AnalyzeDeps = {
    pool: db.pool,
    // a chain that cannot answer, the way a bug or an unreadable context would make it throw
    chain: { analyze: () => Promise.reject(new Error("the model client blew up")) },
    guardrails: {
      policy: POLICY,
      counters: new RepairCountersStore(redis, prefix),
      registryAllows: () => ["RESTART_POD"],
    },
    enqueueExecution: () => Promise.resolve(),
    ...overrides,
  };
  const run = analyzeProcessor({
    analyze,
    metrics: createMetrics({ defaultMetrics: false }),
    queues: {
      notify: {
        add: (_name: string, data: { incidentId: string }) => {
          cards.push(data.incidentId);
          return Promise.resolve();
        },
      } as never,
    },
  });
  return { run, cards };
}

/** A job as BullMQ hands it over: its id, data, and how many attempts came before. */
function job(attemptsMade: number, attempts = 10, id = "auto-1"): Job<AnalyzeJob> {
  return {
    id,
    data: { incidentId: INCIDENT, requestedBy: "system" },
    attemptsMade,
    opts: { attempts },
  } as Job<AnalyzeJob>;
}

describe("an analysis that keeps failing", () => {
  it("is retried while attempts are left, then answered by the offline analyzer, saying why", async () => {
    await incident();
    const { run, cards } = processor();
    await expect(run(job(0))).rejects.toThrow("the model client blew up");
    expect(await listAnalyses(db.pool, INCIDENT)).toEqual([]);
    expect(await run(job(9))).toBe("analyzed");
    const [stored] = await listAnalyses(db.pool, INCIDENT);
    expect(stored?.analysis.engine).toBe("offline");
    const analyzed = (await listEvents(db.pool, INCIDENT)).find((event) => event.kind === "analyzed");
    expect(analyzed?.detail.warnings).toEqual(["models skipped: the model client blew up"]);
    expect(cards).toEqual([INCIDENT]);
  });

  it("says so on the card when not even the offline analyzer can answer, instead of pending forever", async () => {
    await incident();
    const broken = {
      read: () => Promise.reject(new Error("counters unreadable")),
      reserve: () => Promise.reject(new Error("x")),
    };
    const { run, cards } = processor({
      guardrails: { policy: POLICY, counters: broken, registryAllows: () => [] },
    });
    expect(await run(job(9))).toBe("failed");
    expect((await getIncident(db.pool, INCIDENT))?.status).toBe("open");
    const events = await listEvents(db.pool, INCIDENT);
    const failed = events.find((event) => event.kind === "analysis_failed");
    expect(failed?.detail).toEqual({ error: "counters unreadable" });
    const incidentRow = await getIncident(db.pool, INCIDENT);
    if (incidentRow === undefined) throw new Error("no incident");
    const card = buildIncidentCard(incidentRow, events);
    expect(card.analysisFailed).toBe("counters unreadable");
    expect(card.history.map((entry) => entry.text)).toContain("⚠️ analysis failed: counters unreadable");
    expect(cards).toEqual([INCIDENT]);
  });

  it("says a reason in its own words in BOT_LANGUAGE on the card, and in English on the timeline", async () => {
    await incident();
    // the incident's data does not fit a schema: retrying cannot help, nor can the offline analyzer
    const misfit = new ZodError([{ code: "custom", message: "Expected string", path: ["labels"] }]);
    const broken = { read: () => Promise.reject(misfit), reserve: () => Promise.reject(misfit) };
    const { run } = processor({
      chain: { analyze: () => Promise.reject(misfit) },
      guardrails: { policy: POLICY, counters: broken, registryAllows: () => [] },
    });
    expect(await run(job(0))).toBe("failed");
    const events = await listEvents(db.pool, INCIDENT);
    const english = "the incident does not fit the analysis' schema (Expected string)";
    expect(events.find((event) => event.kind === "analysis_failed")?.detail).toMatchObject({
      error: english,
    });
    const incidentRow = await getIncident(db.pool, INCIDENT);
    if (incidentRow === undefined) throw new Error("no incident");
    const inEnglish = buildIncidentCard(incidentRow, events);
    expect(inEnglish.analysisFailed).toBe(english);
    expect(inEnglish.history.map((entry) => entry.text)).toContain(`⚠️ analysis failed: ${english}`);
    const chinese = buildIncidentCard(
      incidentRow,
      events,
      undefined,
      undefined,
      undefined,
      undefined,
      "UTC",
      "zh-TW",
    );
    // zod's own complaint is quoted as it came
    expect(chinese.analysisFailed).toBe("事件資料不符分析的結構（Expected string）");
    expect(chinese.history.map((entry) => entry.text)).toContain(
      "⚠️ 分析失敗：事件資料不符分析的結構（Expected string）",
    );
  });
});

describe("a job run again after its worker died", () => {
  it("stores one analysis however often it runs", async () => {
    await incident();
    const { run } = processor();
    expect(await run(job(9, 10, "auto-INC-1"))).toBe("analyzed");
    expect(await run(job(9, 10, "auto-INC-1"))).toBe("analyzed");
    expect(await listAnalyses(db.pool, INCIDENT)).toHaveLength(1);
    // another job (a person asking again) is another analysis
    expect(await run(job(9, 10, "manual-2"))).toBe("analyzed");
    expect(await listAnalyses(db.pool, INCIDENT)).toHaveLength(2);
  });
});
