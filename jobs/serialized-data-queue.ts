// A BullMQ queue that also takes a job's data already written as JSON. BullMQ writes the data itself
// (`JSON.stringify` as it adds the job) and keeps the data object on its `Job` until Redis answers,
// so a producer's objects live over the round trip: under load they outlive the young generation's
// collections and are promoted. The intake writes the JSON itself and lets the objects go before it
// waits (http/routes/webhooks.ts); what Redis stores is the same string BullMQ would have written.
import { Job, Queue, type JobJson, type JobProgress, type JobsOptions } from "bullmq";

/** A job's data as the JSON that Redis stores. */
class SerializedData {
  constructor(readonly json: string) {}
}

/** BullMQ's Job, writing SerializedData as its string and any other data as BullMQ does. */
class SerializedDataJob<
  DataType = unknown,
  ReturnType = unknown,
  NameType extends string = string,
  ProgressType extends JobProgress = JobProgress,
> extends Job<DataType, ReturnType, NameType, ProgressType> {
  override asJSON(): JobJson {
    const data: unknown = this.data;
    if (!(data instanceof SerializedData)) return super.asJSON();
    // BullMQ writes undefined data as "{}"; that field is replaced with the string here
    this.data = undefined as DataType;
    try {
      return { ...super.asJSON(), data: data.json };
    } finally {
      this.data = data as DataType;
    }
  }
}

export class SerializedDataQueue<Data> extends Queue<Data> {
  /** The class BullMQ's add() builds its jobs with (QueueBase's extension point). */
  protected override get Job(): typeof Job {
    return SerializedDataJob;
  }

  /**
   * `add(name, data, opts)` where `json` is `JSON.stringify(data)`, written by the caller, which then
   * need not keep `data`. Resolves with the job's id once Redis has it.
   */
  async addSerialized(
    name: Parameters<Queue<Data>["add"]>[0],
    json: string,
    opts: JobsOptions,
  ): Promise<string | undefined> {
    // the job's data is the string's holder: nothing reads it before Redis answers
    const job = await this.add(name, new SerializedData(json) as never, opts);
    return job.id;
  }
}
