// Running containers of one Docker engine (DOCKER_HOST).
import type Docker from "dockerode";
import { SourceError, type RunningThing, type WorkloadSource } from "./types.js";

export const DOCKER_SOURCE = "docker";

export class DockerSource implements WorkloadSource {
  readonly name = DOCKER_SOURCE;

  constructor(private readonly dockerHost: string) {}

  async list(): Promise<RunningThing[]> {
    // loaded here only: dockerOptions() is imported by processes that never talk to Docker
    const { default: Dockerode } = await import("dockerode");
    const docker = new Dockerode(dockerOptions(this.dockerHost));
    try {
      const containers = await docker.listContainers();
      return containers.map((container) => ({
        source: DOCKER_SOURCE,
        kind: "Container",
        name: (container.Names[0] ?? container.Id).replace(/^\//, ""),
      }));
    } catch (error) {
      throw new SourceError(
        `docker: listing containers at ${this.dockerHost} failed: ${(error as Error).message}`,
      );
    }
  }
}

/** `unix:///var/run/docker.sock`, `tcp://host:2375` or `http(s)://host:port` as dockerode options. */
export function dockerOptions(dockerHost: string): Docker.DockerOptions {
  const url = new URL(dockerHost);
  if (url.protocol === "unix:") return { socketPath: url.pathname, timeout: 10_000 };
  const protocol = url.protocol === "https:" ? "https" : "http";
  const port = url.port === "" ? (protocol === "https" ? 2376 : 2375) : Number(url.port);
  return { host: url.hostname, port, protocol, timeout: 10_000 };
}
