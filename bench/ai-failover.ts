// How fast the analysis chain fails over from Ollama to Gemini, measured with the real SDKs
// against the local API fakes: once with Ollama refusing connections (a closed port), once with
// Ollama accepting the request and never answering.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { createAnalysisChain } from "../ai/chain.js";
import { closedPortUrl, startFakes, testIncident, type Fakes } from "../dev/llm-incident.js";

export interface AiFailoverFigures {
  /** Median time from the start of an analysis to Gemini receiving the request, Ollama refused. */
  refusedToGeminiMs: number;
  /** The same with Ollama hanging; about the Ollama timeout. */
  hangingToGeminiMs: number;
  /** The Ollama timeout used for the hanging case. */
  hangTimeoutMs: number;
}

const HANG_TIMEOUT_MS = 2_000;

async function timeToGemini(fakes: Fakes, ollamaHost: string, ollamaTimeoutMs: number): Promise<number> {
  const chain = createAnalysisChain(
    { ...fakes.settings, chain: ["ollama", "gemini"], ollama: { host: ollamaHost, model: "qwen2.5:7b" } },
    {},
    // the warm timeout is measured (a cold first load gets OLLAMA_FIRST_LOAD_TIMEOUT_SECONDS)
    { timeoutsMs: { ollama: ollamaTimeoutMs }, firstLoadTimeoutMs: ollamaTimeoutMs },
  );
  // as at start-up: the model checks are made before the first incident
  await chain.checkModels();
  const asked = fakes.gemini.modelRequests().length;
  const started = performance.now();
  const result = await chain.analyze(testIncident());
  const request = fakes.gemini.modelRequests()[asked];
  if (request === undefined || result.analysis.provider !== "gemini") {
    throw new Error(`gemini was not asked: ${JSON.stringify(result.attempts)}`);
  }
  return request.receivedAt - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

export async function benchAiFailover(): Promise<AiFailoverFigures> {
  const fakes = await startFakes();
  try {
    const refusedHost = await closedPortUrl();
    await timeToGemini(fakes, refusedHost, HANG_TIMEOUT_MS); // warm-up: module loading, first connection
    const refused: number[] = [];
    for (let i = 0; i < 9; i++) refused.push(await timeToGemini(fakes, refusedHost, HANG_TIMEOUT_MS));

    fakes.ollama.respondWith({ kind: "hang" });
    const hanging = await timeToGemini(fakes, fakes.ollama.url, HANG_TIMEOUT_MS);
    return {
      refusedToGeminiMs: round(median(refused)),
      hangingToGeminiMs: round(hanging),
      hangTimeoutMs: HANG_TIMEOUT_MS,
    };
  } finally {
    await fakes.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchAiFailover();
  console.log(
    `ai failover: Ollama refused → Gemini asked after ${figures.refusedToGeminiMs} ms (target < 100 ms)`,
  );
  console.log(
    `ai failover: Ollama hanging → Gemini asked after ${figures.hangingToGeminiMs} ms (Ollama timeout ${figures.hangTimeoutMs} ms)`,
  );
}
