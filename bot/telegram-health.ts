// This process's side of "health tells the truth" for Telegram: what every Bot API call answered
// (an API transformer, innermost, so it sees each attempt, retries included) and what the poller
// says (bot/polling.ts), kept here and written to Redis (kv/telegram-health.ts) when it changes
// and as a heartbeat while there is anything to say. A process with the bot role always has
// something to say (how it receives updates), so its silence means it is gone; a worker writes
// only while its calls fail or its token is refused. Writing never blocks a call: Redis away
// means the report waits for the next beat.
import { HttpError, type Transformer } from "grammy";
import type { Logger } from "pino";
import type { PollingState, TelegramHealthStore, TelegramProcessReport } from "../kv/telegram-health.js";

export const DEFAULT_REPORT_EVERY_MS = 10_000;

export class TelegramHealthReporter {
  private polling: TelegramProcessReport["polling"];
  private tokenRejected: TelegramProcessReport["tokenRejected"];
  private callsFailing: TelegramProcessReport["callsFailing"];
  private beat: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: Pick<TelegramHealthStore, "write" | "remove">,
    private readonly logger: Logger,
    /** This process's name in the reports. */
    readonly process: string,
    private readonly everyMs: number = DEFAULT_REPORT_EVERY_MS,
  ) {}

  /** The poller's state; the same state again changes nothing (its `since` stays). */
  pollingState(state: PollingState, detail?: string): void {
    if (this.polling?.state === state && this.polling.detail === detail) return;
    this.polling = { state, since: Date.now(), ...(detail === undefined ? {} : { detail }) };
    this.changed();
  }

  /** Telegram answered `method` (any answer, ok or not). */
  answered(method: string, result: { ok: boolean; error_code?: number; description?: string }): void {
    let changed = false;
    if (!result.ok && result.error_code === 401) {
      if (this.tokenRejected === undefined) {
        this.tokenRejected = { since: Date.now(), method, description: result.description ?? "Unauthorized" };
        changed = true;
      }
    } else if (this.tokenRejected !== undefined) {
      this.tokenRejected = undefined;
      changed = true;
    }
    if (!result.ok && (result.error_code ?? 0) >= 500) {
      this.failed(method, `${result.error_code} ${result.description ?? ""}`.trim());
      return;
    }
    if (this.callsFailing !== undefined) {
      this.callsFailing = undefined;
      changed = true;
    }
    if (changed) this.changed();
  }

  /** `method` got no answer (network) or a 5xx. */
  failed(method: string, error: string): void {
    const since = this.callsFailing?.since ?? Date.now();
    this.callsFailing = { since, failures: (this.callsFailing?.failures ?? 0) + 1, method, error };
    this.changed();
  }

  /** Reports every `everyMs` from now on (the bot role: its silence then means it is gone). */
  start(): void {
    this.changed();
  }

  /** Stops reporting and removes this process's report: a clean stop is no problem. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.beat);
    await this.writing;
    await this.store.remove(this.process).catch(() => undefined);
  }

  /** The transformer that tells this reporter what each call got. */
  watch(): Transformer {
    return async (prev, method, payload, signal) => {
      try {
        const result = await prev(method, payload, signal);
        this.answered(method, result);
        return result;
      } catch (error) {
        // a long poll cut short by a stop is no failure
        if (error instanceof HttpError && signal?.aborted !== true) this.failed(method, String(error.error));
        throw error;
      }
    };
  }

  private get hasNews(): boolean {
    return this.polling !== undefined || this.tokenRejected !== undefined || this.callsFailing !== undefined;
  }

  /** Writes now (after any write in progress) and beats on while there is anything to say. */
  private changed(): void {
    if (this.stopped) return;
    clearTimeout(this.beat);
    this.writing = this.writing.then(() => this.write());
    if (this.hasNews) {
      this.beat = setTimeout(() => this.changed(), this.everyMs);
      this.beat.unref();
    }
  }

  private async write(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.hasNews) {
        await this.store.remove(this.process);
        return;
      }
      await this.store.write({
        process: this.process,
        at: Date.now(),
        everyMs: this.everyMs,
        ...(this.polling === undefined ? {} : { polling: this.polling }),
        ...(this.tokenRejected === undefined ? {} : { tokenRejected: this.tokenRejected }),
        ...(this.callsFailing === undefined ? {} : { callsFailing: this.callsFailing }),
      });
    } catch (error) {
      this.logger.debug(
        { err: error },
        "Telegram health report not written (Redis away?); next beat tries again",
      );
    }
  }
}
