// Ingest jobs packed at the intake: concurrent small alert groups share a job up to a number of
// alerts, no group is split or lost, other kinds of job pass unchanged, and the ingest processor
// reads every alert a packed job carries. A packed job is an ordinary "alertmanager" job (one
// group holding every packed group's alerts), so a worker of an older version reads it whole too.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { BulkJob } from "../../domain/enqueue-batch.js";
import { normalizeJob } from "../../jobs/ingest.processor.js";
import { IngestJobSchema, packIngestJobs, type IngestJob } from "../../jobs/queues.js";
import { alertmanagerPayload } from "../../dev/alerts.js";

const receivedAt = new Date("2026-12-04T10:00:00Z").toISOString();

const group = (name: string, fingerprint: string, count: number): BulkJob<IngestJob> => ({
  name,
  data: { source: "alertmanager", receivedAt, payload: alertmanagerPayload({ fingerprint, count }) },
  opts: { jobId: randomUUID() },
});

const sentry = (): BulkJob<IngestJob> => ({
  name: "sentry",
  data: { source: "sentry", resource: "issue", receivedAt, payload: { action: "created" } },
  opts: { jobId: randomUUID() },
});

/** The alerts a job carries. */
const alertsOf = (job: BulkJob<IngestJob> | undefined) =>
  job?.data.source === "alertmanager" ? job.data.payload.alerts : [];

describe("packIngestJobs", () => {
  it("packs groups of one kind up to the alert limit, never splitting one, and maps each to its carrier", () => {
    const given = [
      group("alertmanager", "a", 2),
      group("alertmanager", "b", 2),
      group("alertmanager", "c", 2),
    ];
    const { jobs, carriers } = packIngestJobs(given, 5);
    // 2 + 2 fit in one job; 2 more would make 6
    expect(jobs.map((job) => alertsOf(job).length)).toEqual([4, 2]);
    // the one left alone is the job given
    expect(jobs[1]).toBe(given[2]);
    const byId = new Map(jobs.map((job) => [job.opts.jobId, job]));
    for (const job of given) {
      const carrier = byId.get(carriers.get(job.opts.jobId) ?? "");
      for (const alert of alertsOf(job)) expect(alertsOf(carrier)).toContainEqual(alert);
    }
    // the first job carries the second: both answers name it
    expect(carriers.get(given[1]?.opts.jobId ?? "")).toBe(given[0]?.opts.jobId);
    for (const job of jobs) expect(IngestJobSchema.safeParse(job.data).success).toBe(true);
  });

  it("packs no group whose alerts were truncated, nor groups of another payload version", () => {
    const truncated = group("alertmanager", "t", 1);
    if (truncated.data.source === "alertmanager") truncated.data.payload.truncatedAlerts = 7;
    const v4 = group("alertmanager", "a", 1);
    const v1 = group("alertmanager", "b", 1);
    if (v1.data.source === "alertmanager") v1.data.payload.version = "1";
    const given = [truncated, v4, v1, group("alertmanager", "c", 1)];
    const { jobs } = packIngestJobs(given, 250);
    expect(jobs[0]).toBe(truncated);
    // "a" and "c" share a version-4 job; "b" keeps its own
    expect(jobs.map((job) => alertsOf(job).length)).toEqual([1, 2, 1]);
    expect(jobs[2]).toBe(v1);
  });

  it("keeps a lone group's job as a single delivery's, other kinds apart, and the given jobs untouched", () => {
    const alone = group("grafana", "g", 1);
    const other = sentry();
    const large = group("alertmanager", "big", 5);
    const small = group("alertmanager", "small", 1);
    const given = [alone, other, large, small];
    const copies = structuredClone(given);
    const { jobs, carriers } = packIngestJobs(given, 5);
    expect(jobs.map((job) => job.opts.jobId)).toEqual(
      [alone, other, large, small].map((job) => job.opts.jobId),
    );
    // each the very job given
    jobs.forEach((job, index) => expect(job).toBe(given[index]));
    expect([...carriers].every(([id, carrier]) => id === carrier)).toBe(true);
    expect(given).toEqual(copies);
  });
});

describe("normalizeJob of a packed job", () => {
  it("reads the alerts of every group it carries", () => {
    const { jobs } = packIngestJobs(
      [
        group("alertmanager", "first", 1),
        group("alertmanager", "second", 3),
        group("alertmanager", "third", 2),
      ],
      250,
    );
    expect(jobs).toHaveLength(1);
    const job = IngestJobSchema.parse(jobs[0]?.data);
    const pods = normalizeJob(job).map((alert) => alert.labels.pod);
    // each group's alerts (pods p-0, p-1, … within a group), the groups in order
    expect(pods).toEqual(["p-0", "p-0", "p-1", "p-2", "p-0", "p-1"]);
    // a worker that knows nothing of packing reads the same job the same way: it is a plain group
    expect(job.source).toBe("alertmanager");
    expect(normalizeJob(IngestJobSchema.parse(structuredClone(jobs[0]?.data))).length).toBe(6);
  });
});
