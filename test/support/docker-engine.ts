// A real, private Docker engine for tests (Debian packages docker.io and busybox-static): its own
// dockerd on a socket in a temp dir, with no bridge and no iptables, so it never touches the
// machine's network; containers run with --network none or host-on-127.0.0.1 only. There is no
// image registry here, so the one image is imported from a busybox rootfs built on the spot.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { startProcess } from "../../dev/processes.js";

export const DOCKER_TEST_IMAGE = "chatops-busybox:test";
const DOCKERD_CANDIDATES = ["/usr/sbin/dockerd", "/usr/bin/dockerd"];
const BUSYBOX = "/bin/busybox";
const INSTALL_HINT = "apt-get install docker.io busybox-static (.ci/run does this)";

export interface DockerEngine {
  socketPath: string;
  /** `unix:///…/docker.sock`, as DOCKER_HOST would be set. */
  dockerHost: string;
  docker: Docker;
  /** A busybox image (sh, sleep, httpd, wget, …) with `/www/index.html`; run it with --pull never. */
  image: string;
  /** How long dockerd took to answer, and the image to import. */
  timings: { startMs: number; importMs: number };
  output(): string;
  /** Removes every container, stops dockerd, unmounts what it left and deletes the temp dirs. */
  stop(): Promise<void>;
}

export async function startDockerEngine(): Promise<DockerEngine> {
  const dockerd = DOCKERD_CANDIDATES.find((path) => existsSync(path));
  if (dockerd === undefined) throw new Error(`dockerd is missing: ${INSTALL_HINT}`);
  if (!isStaticBinary(BUSYBOX)) {
    // A dynamically linked busybox would not run in an image that holds nothing else.
    throw new Error(`${BUSYBOX} is missing or not statically linked: ${INSTALL_HINT}`);
  }

  const dir = await mkdtemp(join(tmpdir(), "dockerd-"));
  const socketPath = join(dir, "docker.sock");
  const started = Date.now();
  const daemon = startProcess(dockerd, [
    `--data-root=${join(dir, "data")}`,
    `--exec-root=${join(dir, "exec")}`,
    `--pidfile=${join(dir, "docker.pid")}`,
    `--host=unix://${socketPath}`,
    // Off limits here: the default bridge's private address range and the host's firewall.
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
  ]);
  // If the test process dies without stop(), do not leave a daemon behind (best effort: exit
  // handlers cannot wait, so mounts may stay until the next reboot).
  const killOnExit = () => daemon.child.kill("SIGTERM");
  process.once("exit", killOnExit);

  const docker = new Docker({ socketPath });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await removeAllContainers(docker);
    await daemon.stop();
    process.removeListener("exit", killOnExit);
    unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForPing(docker, 15_000, () => daemon.child.exitCode !== null);
    const startMs = Date.now() - started;
    const importStarted = Date.now();
    await importBusybox(docker, join(dir, "rootfs"));
    const importMs = Date.now() - importStarted;
    return {
      socketPath,
      dockerHost: `unix://${socketPath}`,
      docker,
      image: DOCKER_TEST_IMAGE,
      timings: { startMs, importMs },
      output: daemon.output,
      stop,
    };
  } catch (error) {
    const output = daemon.output();
    await stop();
    throw new Error(`docker engine: ${(error as Error).message}\n${output}`, { cause: error });
  }
}

async function waitForPing(docker: Docker, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (exited()) throw new Error("dockerd exited during start-up");
    try {
      await docker.ping();
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`dockerd not ready within ${timeoutMs} ms (${last})`);
}

/** A rootfs of static busybox and one symlink per applet, piped through tar into `docker import`. */
async function importBusybox(docker: Docker, rootfs: string): Promise<void> {
  await mkdir(join(rootfs, "bin"), { recursive: true });
  await mkdir(join(rootfs, "www"));
  await mkdir(join(rootfs, "tmp"), { mode: 0o1777 });
  await writeFile(join(rootfs, "bin", "busybox"), await readFile(BUSYBOX), { mode: 0o755 });
  await writeFile(join(rootfs, "www", "index.html"), "ok\n");
  for (const applet of busyboxApplets()) {
    if (applet !== "busybox") await symlink("busybox", join(rootfs, "bin", applet));
  }
  const tar = spawn("tar", ["-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
  const tarExit = new Promise<number | null>((resolve) => tar.once("close", resolve));
  const [repo = "", tag = ""] = DOCKER_TEST_IMAGE.split(":");
  const progress = await docker.importImage(tar.stdout, { repo, tag });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(progress, (error) => (error === null ? resolve() : reject(error)));
  });
  const code = await tarExit;
  if (code !== 0) throw new Error(`tar of the busybox rootfs exited with ${code}`);
}

function busyboxApplets(): string[] {
  const result = spawnSync(BUSYBOX, ["--list"], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${BUSYBOX} --list failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((name) => /^[a-z0-9_.[-]+$/.test(name));
}

/** True for an ELF executable without a PT_INTERP program header (no dynamic loader needed). */
function isStaticBinary(path: string): boolean {
  if (!existsSync(path)) return false;
  const elf = readFileSync(path);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false; // ELF, 64-bit
  const tableOffset = Number(elf.readBigUInt64LE(0x20));
  const entrySize = elf.readUInt16LE(0x36);
  const entries = elf.readUInt16LE(0x38);
  for (let index = 0; index < entries; index++) {
    const PT_INTERP = 3;
    if (elf.readUInt32LE(tableOffset + index * entrySize) === PT_INTERP) return false;
  }
  return true;
}

async function removeAllContainers(docker: Docker): Promise<void> {
  try {
    const containers = await docker.listContainers({ all: true });
    await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true })));
  } catch {
    // dockerd is already gone: nothing to remove through it.
  }
}

/** dockerd leaves the netns mount (and, if killed, overlay mounts) behind: deepest first. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((target) => target === dir || target.startsWith(`${dir}/`));
  const targets = new Set([join(dir, "exec", "netns", "default"), ...mounts]);
  for (const target of [...targets].sort((a, b) => b.length - a.length)) {
    spawnSync("umount", ["--lazy", target], { stdio: "ignore" });
  }
}
