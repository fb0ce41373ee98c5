// A fetch bound to one call: it carries the call's abort signal (for clients that take none per
// request) and remembers the last `Retry-After` so a 429 can be honoured whatever the SDK keeps.
import { retryAfterFromHeaders } from "../provider.js";

export interface CallFetch {
  fetch: typeof fetch;
  retryAfterMs(): number | undefined;
}

export function callFetch(signal: AbortSignal): CallFetch {
  let retryAfter: number | undefined;
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, { ...init, signal });
      retryAfter = retryAfterFromHeaders(response.headers);
      return response;
    },
    retryAfterMs: () => retryAfter,
  };
}
