// The one way the bot bounds a wait: `withDeadline` runs work with a deadline. At `ms` the work's
// signal aborts and the call rejects with the caller's timeout error; when the caller's own signal
// aborts first, it rejects with that signal's reason. Either way it rejects before the abort, so
// the caller sees why it stopped rather than the work's own reaction to being aborted, and work
// that ignores its signal is abandoned, never awaited.
export async function withDeadline<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  timeoutError: () => Error,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<T> {
  const parent = options.signal;
  if (parent?.aborted === true)
    throw parent.reason instanceof Error ? parent.reason : new Error(String(parent.reason));
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = timeoutError();
      reject(error);
      controller.abort(error);
    }, ms);
    if (parent !== undefined) {
      onAbort = () => {
        reject(parent.reason instanceof Error ? parent.reason : new Error(String(parent.reason)));
        controller.abort(parent.reason);
      };
      parent.addEventListener("abort", onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work(controller.signal), stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) parent?.removeEventListener("abort", onAbort);
  }
}

/** The usual timeout error: "no answer within 2000 ms". */
export function noAnswerWithin(ms: number): () => Error {
  return () => new Error(`no answer within ${ms} ms`);
}
