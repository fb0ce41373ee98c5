// Shared by the registry tests: fixture paths, a captured CLI output, temp dirs, real binaries.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../../registry/cli.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SAMPLE_REGISTRY = join(ROOT, "registry/services.yaml");
export const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/registry/${name}`, import.meta.url));

export function captureIo(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line) }, out, err };
}

export async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "registry-test-"));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The path of a Prometheus tool; fails the test (never skips it) when it is not installed. */
export function binary(name: "promtool" | "amtool" | "prometheus"): string {
  const path = `/usr/bin/${name}`;
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: apt-get install -y prometheus prometheus-alertmanager (.ci/run does this)`,
    );
  }
  return path;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, [...args], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
