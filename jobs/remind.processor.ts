// Remind queue: a snooze ran out (a job delayed until its end). The use case decides whether the
// chat hears about it again.
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { endSnooze, type EndSnoozeDeps, type EndSnoozeOutcome, ChatBusy } from "../handlers/end-snooze.js";
import { RemindJobSchema, type RemindJob } from "./queues.js";

export function remindProcessor(deps: EndSnoozeDeps) {
  return async (job: Job<RemindJob>, token?: string): Promise<EndSnoozeOutcome> => {
    const parsed = RemindJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed remind job: ${parsed.error.message}`);
    try {
      return await endSnooze(deps, {
        incidentId: parsed.data.incidentId,
        until: new Date(parsed.data.until),
      });
    } catch (error) {
      if (!(error instanceof ChatBusy)) throw error;
      // in a storm the reminder waits for the chat's budget like any other send
      await job.moveToDelayed(Date.now() + error.waitMs, token);
      throw new DelayedError();
    }
  };
}

/** One reminder per (incident, snooze end), delayed until the end. */
export function remindJob(incidentId: string, until: Date, now = Date.now()) {
  return {
    data: { incidentId, until: until.toISOString() } satisfies RemindJob,
    options: { jobId: `remind-${incidentId}-${until.getTime()}`, delay: Math.max(0, until.getTime() - now) },
  };
}
