// The Docker Engine API as the executors need it: three calls, behind an interface so the
// executor's callers hand in one gateway per engine (DOCKER_HOST) and nothing else.
import type Docker from "dockerode";
import { dockerOptions } from "../registry/sources/docker.js";

export type ContainerHealth = "starting" | "healthy" | "unhealthy";

/** One container as `docker inspect` sees it now. */
export interface ContainerSnapshot {
  id: string;
  /** Without Docker's leading "/". */
  name: string;
  running: boolean;
  /** Docker's state: created, running, restarting, paused, exited, dead or removing. */
  status: string;
  /** Absent when the container has no healthcheck. */
  health?: ContainerHealth;
  /** RFC 3339 with nanoseconds, as the engine reports it; "0001-01-01T00:00:00Z" if never started. */
  startedAt: string;
  /** Restarts by the engine's restart policy (an API restart does not count here). */
  restartCount: number;
  exitCode: number;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  /** Docker's state, as in ContainerSnapshot.status. */
  status: string;
}

export interface DockerGateway {
  /** undefined when the engine has no such container. */
  inspect(name: string): Promise<ContainerSnapshot | undefined>;
  /** Stops (SIGTERM, then SIGKILL after `timeoutSeconds`) and starts the container again. */
  restart(name: string, timeoutSeconds: number): Promise<void>;
  /** Every container, running or not. */
  list(): Promise<ContainerSummary[]>;
}

/** Idle time allowed on the socket for calls that answer at once. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * dockerode and its dependencies cost a process about 25 MB: loaded at the first call, so a
 * process that never talks to Docker (the HTTP intake, a bot without DOCKER_HOST) never pays it.
 */
async function dockerClient(options: Docker.DockerOptions): Promise<Docker> {
  const { default: Dockerode } = await import("dockerode");
  return new Dockerode(options);
}

export class DockerodeGateway implements DockerGateway {
  private client: Promise<Docker> | undefined;

  constructor(private readonly options: Docker.DockerOptions) {}

  private get docker(): Promise<Docker> {
    this.client ??= dockerClient({ timeout: CALL_TIMEOUT_MS, ...this.options });
    return this.client;
  }

  /** `unix:///var/run/docker.sock`, `tcp://host:2375` or `https://host:2376` (DOCKER_HOST). */
  static fromHost(dockerHost: string): DockerodeGateway {
    return new DockerodeGateway(dockerOptions(dockerHost));
  }

  /** Whether the engine answers (for /status). */
  async ping(): Promise<void> {
    await (await this.docker).ping();
  }

  async inspect(name: string): Promise<ContainerSnapshot | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await (await this.docker).getContainer(name).inspect();
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
    // The engine also resolves an id prefix (`db`, `cafe`): only the container of that name is it.
    if (info.Name.replace(/^\//, "") !== name && info.Id !== name) return undefined;
    const health = toHealth(info.State.Health?.Status);
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ""),
      running: info.State.Running,
      status: info.State.Status,
      ...(health === undefined ? {} : { health }),
      startedAt: info.State.StartedAt,
      restartCount: info.RestartCount,
      exitCode: info.State.ExitCode,
    };
  }

  async restart(name: string, timeoutSeconds: number): Promise<void> {
    // The engine answers only once the container has stopped (up to timeoutSeconds) and started
    // again, and the socket stays silent meanwhile: the usual idle timeout would cut that short.
    const docker = await dockerClient({ ...this.options, timeout: (timeoutSeconds + 30) * 1000 });
    await docker.getContainer(name).restart({ t: timeoutSeconds });
  }

  async list(): Promise<ContainerSummary[]> {
    const containers = await (await this.docker).listContainers({ all: true });
    return containers.map((container) => ({
      id: container.Id,
      name: (container.Names[0] ?? container.Id).replace(/^\//, ""),
      image: container.Image,
      status: container.State,
    }));
  }
}

function toHealth(status: string | undefined): ContainerHealth | undefined {
  // "none" (or no Health at all) means the container has no healthcheck.
  return status === "starting" || status === "healthy" || status === "unhealthy" ? status : undefined;
}

function statusCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("statusCode" in error)) return undefined;
  return typeof error.statusCode === "number" ? error.statusCode : undefined;
}
