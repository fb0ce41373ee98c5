// How many bytes of webhook bodies the intake reads, parses and queues at once. Fifty senders of
// large alert groups would otherwise have fifty bodies on the heap together, each as text, parsed
// JSON, validated alerts and queued job data, so memory grew with the request rate. A request
// takes its share (its Content-Length) before its body is read; past the budget it waits, unread,
// and TCP back-pressure holds its sender. A body larger than the whole budget waits until it is
// alone. Waiters are served first come, first served, so a large body is never starved.
export interface BodyBudgetOptions {
  /** Bytes of bodies in flight at once. */
  bytes: number;
  /** Longest wait for room; then `take` rejects with BodyBudgetBusy (the route answers 503). */
  waitMs: number;
}

export class BodyBudgetBusy extends Error {
  override readonly name = "BodyBudgetBusy";
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class BodyBudget {
  private used = 0;
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: BodyBudgetOptions) {}

  /** Bodies being read, parsed or queued now. */
  get inFlight(): number {
    return this.running;
  }

  /** Requests waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with `release` once `bytes` fit in the budget (at most the whole budget is counted).
   * `signal` aborting (the sender went away) gives up the place in the line: it then resolves
   * with a release that does nothing, and the caller stops.
   */
  take(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const share = this.shareOf(bytes);
    const now = this.takeNow(bytes);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes: share,
        grant: () => {
          cleanup();
          resolve(this.grant(share));
        },
      };
      const leave = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        // the one at the head may have been all that held the others back
        this.serve();
      };
      const timer = setTimeout(() => {
        cleanup();
        leave();
        reject(new BodyBudgetBusy(`no room for the body within ${this.options.waitMs} ms`));
      }, this.options.waitMs);
      const abandoned = () => {
        cleanup();
        leave();
        resolve(() => undefined);
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abandoned);
      };
      if (signal?.aborted === true) return abandoned();
      signal?.addEventListener("abort", abandoned, { once: true });
      this.waiting.push(waiter);
    });
  }

  /**
   * `release` when `bytes` fit now and nobody waits, else undefined (then `take` waits for room).
   * The common case, answered without a promise or a signal for a sender that might go away.
   */
  takeNow(bytes: number): (() => void) | undefined {
    const share = this.shareOf(bytes);
    return this.waiting.length === 0 && this.fits(share) ? this.grant(share) : undefined;
  }

  /** At most the whole budget is counted. */
  private shareOf(bytes: number): number {
    return Math.min(Math.max(bytes, 1), this.options.bytes);
  }

  private fits(share: number): boolean {
    return this.running === 0 || this.used + share <= this.options.bytes;
  }

  private grant(share: number): () => void {
    this.used += share;
    this.running += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= share;
      this.running -= 1;
      this.serve();
    };
  }

  private serve(): void {
    for (let head = this.waiting[0]; head !== undefined && this.fits(head.bytes); head = this.waiting[0]) {
      this.waiting.shift();
      head.grant();
    }
  }
}
