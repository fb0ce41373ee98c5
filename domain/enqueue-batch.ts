// Coalesces the enqueues of concurrent webhook requests into one Redis round trip. Under load a
// round trip per request is most of the intake's cost (one pipeline, its promise, its reply
// parsing each); here every request that arrives within one turn of the event loop joins one
// batch, sent at the end of that turn (setImmediate) or as soon as MAX_BATCH_JOBS are waiting.
// A lone request adds no delay beyond the turn it arrived in.
//
// Each request is still answered only once its own jobs are in Redis: `add()` resolves when the
// batch holding them was added, and rejects when that failed, so a Redis failure fails exactly
// the requests of that batch (503, the sender retries) and no other. A failure part-way may leave
// some of the batch's jobs queued, which the retried delivery meets as a duplicate (ingest
// deduplicates by fingerprint).
//
// A batch may be packed before it is sent (`pack`: the ingest queue packs small alert groups into
// shared jobs, jobs/queues.ts), so that Redis runs BullMQ's add script per job rather than per request.
//
// A batch Redis has not confirmed within its deadline fails its requests (the senders retry):
// one timer per batch, not one per request, since the deadline is the same for all of them.
/** The jobs of one batch at most; a request's own jobs are never split across batches. */
export const MAX_BATCH_JOBS = 500;
/** How long a batch may wait for Redis before its requests fail. */
export const BATCH_DEADLINE_MS = 3_000;

export interface EnqueueBatchOptions<Data> {
  /** MAX_BATCH_JOBS by default. */
  maxJobs?: number;
  /** BATCH_DEADLINE_MS by default. */
  deadlineMs?: number;
  /**
   * Packs a batch's jobs into fewer before they are sent (e.g. several small alert groups into one
   * job); `carriers` maps each given job's id to the id of the job that carries it.
   */
  pack?: (jobs: BulkJob<Data>[]) => { jobs: BulkJob<Data>[]; carriers: ReadonlyMap<string, string> };
}

export interface BulkJob<Data> {
  name: string;
  data: Data;
  opts: { jobId: string };
}

interface Waiting<Data> {
  jobs: BulkJob<Data>[];
  resolve: (ids: string[]) => void;
  reject: (error: unknown) => void;
}

/** A request of a batch handed to Redis: what it answers with, and nothing of its jobs. */
interface Answer {
  ids: string[];
  resolve: (ids: string[]) => void;
  reject: (error: unknown) => void;
}

export class EnqueueBatch<Data> {
  private waiting: Waiting<Data>[] = [];
  private waitingJobs = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private batches = 0;

  private readonly maxJobs: number;
  private readonly deadlineMs: number;
  private readonly pack: EnqueueBatchOptions<Data>["pack"];

  /** `addAll`: adds the batch's jobs to their queue in one round trip (http/routes/webhooks.ts). */
  constructor(
    private readonly addAll: (jobs: BulkJob<Data>[]) => Promise<unknown>,
    options: EnqueueBatchOptions<Data> = {},
  ) {
    this.maxJobs = options.maxJobs ?? MAX_BATCH_JOBS;
    this.deadlineMs = options.deadlineMs ?? BATCH_DEADLINE_MS;
    this.pack = options.pack;
  }

  /** How many batches were sent so far (one per Redis round trip). */
  get sent(): number {
    return this.batches;
  }

  /**
   * Resolves once `jobs` are in the queue, with the ids of the jobs that carry them (their own ids
   * unless packed), each once; rejects with the error of the batch that held them.
   */
  add(jobs: BulkJob<Data>[]): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      if (this.waitingJobs > 0 && this.waitingJobs + jobs.length > this.maxJobs) this.flush();
      this.waiting.push({ jobs, resolve, reject });
      this.waitingJobs += jobs.length;
      if (this.waitingJobs >= this.maxJobs) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.waitingJobs = 0;
    this.batches += 1;
    // Once handed to `addAll`, the jobs are not held here while Redis answers (nor should `addAll`
    // hold their data; the intake's writes it as JSON): each request keeps only the ids it answers.
    const answers = this.send(batch);
    const timer = setTimeout(() => {
      const error = new Error(`enqueue timed out: no answer from Redis within ${this.deadlineMs} ms`);
      for (const request of answers.requests) request.reject(error);
    }, this.deadlineMs);
    // a settled promise ignores the later call: whichever comes first answers each request
    answers.sent.then(
      () => {
        clearTimeout(timer);
        for (const request of answers.requests) request.resolve(request.ids);
      },
      (error: unknown) => {
        clearTimeout(timer);
        for (const request of answers.requests) request.reject(error);
      },
    );
  }

  /** Packs and hands the batch to `addAll`; each request answers with the ids of the jobs that carry its own. */
  private send(batch: Waiting<Data>[]): { sent: Promise<unknown>; requests: Answer[] } {
    let sent: Promise<unknown>;
    let carriers: ReadonlyMap<string, string> | undefined;
    try {
      const jobs = batch.flatMap((request) => request.jobs);
      const packed = this.pack?.(jobs);
      carriers = packed?.carriers;
      sent = this.addAll(packed?.jobs ?? jobs);
    } catch (error) {
      sent = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const requests = batch.map(({ jobs, resolve, reject }) => {
      const ids = jobs.map((job) => carriers?.get(job.opts.jobId) ?? job.opts.jobId);
      return { ids: [...new Set(ids)], resolve, reject };
    });
    return { sent, requests };
  }
}
