// RESTART_CONTAINER: restart one Docker container through the Engine API (the action list, domain/actions.ts).
// The container is named by validated params, never by a command string.
import { z } from "zod";
import type { DockerGateway } from "../gateways/docker-gateway.js";
import {
  type ExecutionResult,
  type Executor,
  type PlannedCall,
  type VerifyResult,
  ExecutionFailure,
  refusal,
  verdict,
} from "./executor.js";

/** Docker's own rule for container names. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** SIGTERM, then SIGKILL after this long: room for a database to shut down cleanly. */
export const STOP_TIMEOUT_SECONDS = 10;

export interface RestartContainerParams {
  /** The Docker host the caller picked the gateway for; recorded in the plan, not dialled here. */
  host?: string;
  container: string;
}

export interface RestartContainerDeps {
  docker: DockerGateway;
  /** When given, only these containers may be restarted. */
  allowedContainers?: readonly string[];
}

const params = z
  .object({
    host: z.string().min(1).max(253).exactOptional(),
    container: z.string().regex(CONTAINER_NAME, { error: "not a Docker container name" }),
  })
  .strict();

/** What execute records so verify can tell a new start from the old one. */
const before = z.object({ id: z.string(), startedAt: z.string() });

function plan(input: RestartContainerParams): PlannedCall[] {
  return [
    {
      api: "docker",
      method: "Container.restart",
      args: {
        ...(input.host === undefined ? {} : { host: input.host }),
        container: input.container,
        t: STOP_TIMEOUT_SECONDS,
      },
    },
  ];
}

export const restartContainer: Executor<RestartContainerParams, RestartContainerDeps> = {
  name: "RESTART_CONTAINER",
  description: `Restart a Docker container (stop timeout ${STOP_TIMEOUT_SECONDS} s).`,
  params,

  async guard(deps, input) {
    if (deps.allowedContainers !== undefined && !deps.allowedContainers.includes(input.container)) {
      return refusal("container-allow-list", { code: "container_not_allowed", container: input.container });
    }
    const container = await deps.docker.inspect(input.container);
    if (container === undefined) {
      return refusal("container-exists", { code: "container_missing", container: input.container });
    }
    return { ok: true };
  },

  plan,

  async execute(deps, input, context): Promise<ExecutionResult> {
    const calls = plan(input);
    const current = await deps.docker.inspect(input.container);
    // It may have gone since guard ran.
    if (current === undefined)
      throw new ExecutionFailure({
        code: "no_container",
        action: "RESTART_CONTAINER",
        container: input.container,
      });
    const recorded = { id: current.id, startedAt: current.startedAt };
    if (context.dryRun) return { changed: false, calls, before: recorded };
    context.signal?.throwIfAborted();
    // By name, exactly as planned; verify notices if a namesake replaced the container meanwhile.
    await deps.docker.restart(input.container, STOP_TIMEOUT_SECONDS);
    return { changed: true, calls, before: recorded };
  },

  async verify(deps, input, result): Promise<VerifyResult> {
    const previous = before.parse(result.before);
    const now = await deps.docker.inspect(input.container);
    if (now === undefined) return verdict("failed", { code: "container_gone", container: input.container });
    if (now.id !== previous.id) {
      return verdict("failed", { code: "container_replaced", container: input.container });
    }
    switch (now.status) {
      case "created":
      case "restarting":
        return verdict("pending", { code: "container_status", status: now.status });
      case "running":
        break;
      default:
        return verdict("failed", { code: "container_stopped", status: now.status, exitCode: now.exitCode });
    }
    if (!startedLater(now.startedAt, previous.startedAt)) {
      return verdict("pending", { code: "container_not_restarted", since: previous.startedAt });
    }
    if (now.health === "starting") return verdict("pending", { code: "healthcheck_starting" });
    if (now.health === "unhealthy") return verdict("failed", { code: "container_unhealthy" });
    return verdict("recovered", {
      code: "container_running",
      since: now.startedAt,
      healthcheck: now.health !== undefined,
    });
  },
};

/**
 * Compares the engine's RFC 3339 times exactly: they carry nanoseconds with trailing zeros
 * dropped, so neither Date (milliseconds) nor plain string order would do.
 */
export function startedLater(now: string, previous: string): boolean {
  return toNanoseconds(now) > toNanoseconds(previous);
}

function toNanoseconds(time: string): bigint {
  const match = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  const milliseconds = match === null ? Number.NaN : Date.parse(`${match[1] ?? ""}${match[3] ?? ""}`);
  if (Number.isNaN(milliseconds)) throw new Error(`not an RFC 3339 time: ${time}`);
  const fraction = BigInt((match?.[2] ?? "").padEnd(9, "0"));
  return BigInt(milliseconds) * 1_000_000n + fraction;
}
