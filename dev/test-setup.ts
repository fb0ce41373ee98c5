// `npm test`'s own set-up, run before vitest: the programs the suites start privately (Alertmanager,
// promtool, ClickHouse, a Docker engine, a static busybox, Redis, PostgreSQL) must be installed.
// As root on Debian or Ubuntu, missing ones are installed with apt-get; anywhere else this prints
// exactly what to install and fails. It never lets a suite be skipped for want of a program.
// (PostgreSQL, Redis and the test database are then provided by test/support/global-setup.ts.)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

interface Requirement {
  /** What a suite needs it for. */
  what: string;
  /** Any one of these paths, or a program name looked up on PATH. */
  found: () => boolean;
  /** The Debian package, and what to run on macOS. */
  debian: string;
  macos: string;
}

const onPath = (program: string) =>
  (process.env.PATH ?? "")
    .split(path.delimiter)
    .some((dir) => dir !== "" && existsSync(path.join(dir, program)));
const anyOf = (...paths: string[]) => paths.some((file) => existsSync(file));
const postgresBin = () =>
  onPath("initdb") ||
  (existsSync("/usr/lib/postgresql") &&
    spawnSync("sh", ["-c", "ls /usr/lib/postgresql/*/bin/initdb"], { stdio: "ignore" }).status === 0);
const staticBusybox = () => {
  if (!existsSync("/bin/busybox")) return false;
  const file = spawnSync("file", ["-L", "/bin/busybox"], { encoding: "utf8" });
  // without `file`, trust the package database
  if (file.status !== 0)
    return spawnSync("dpkg-query", ["-W", "-f=${Status}", "busybox-static"], {
      encoding: "utf8",
    }).stdout.includes("ok installed");
  return /statically linked|static-pie/.test(file.stdout);
};

const REQUIREMENTS: Requirement[] = [
  { what: "PostgreSQL", found: postgresBin, debian: "postgresql", macos: "brew install postgresql@16" },
  { what: "Redis", found: () => onPath("redis-server"), debian: "redis-server", macos: "brew install redis" },
  {
    what: "Alertmanager (silences, the webhook sender)",
    found: () => anyOf("/usr/bin/prometheus-alertmanager"),
    debian: "prometheus-alertmanager",
    macos: "(Linux only: run the tests in a Debian container)",
  },
  {
    what: "promtool (generated alert rules)",
    found: () => onPath("promtool"),
    debian: "prometheus",
    macos: "brew install prometheus",
  },
  {
    what: "ClickHouse (the SigNoz poller)",
    found: () => anyOf("/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"),
    debian: "clickhouse-server",
    macos: "(Linux only: run the tests in a Debian container)",
  },
  {
    what: "a Docker engine (the Docker executor)",
    found: () => anyOf("/usr/sbin/dockerd", "/usr/bin/dockerd"),
    debian: "docker.io",
    macos: "(Linux only: run the tests in a Debian container)",
  },
  {
    what: "a static busybox (the Docker tests' image)",
    found: staticBusybox,
    debian: "busybox-static",
    macos: "(Linux only: run the tests in a Debian container)",
  },
];

const missing = REQUIREMENTS.filter((requirement) => !requirement.found());
if (missing.length > 0) {
  const packages = missing.map((requirement) => requirement.debian);
  const canInstall = process.getuid?.() === 0 && onPath("apt-get");
  if (canInstall) {
    console.error(`test set-up: installing ${packages.join(", ")} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    // another apt-get (an unattended upgrade, a second checkout's set-up) may hold dpkg's lock: wait
    const wait = ["-o", "DPkg::Lock::Timeout=600"];
    execFileSync("apt-get", [...wait, "update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", [...wait, "install", "-y", "-qq", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env,
    });
  } else {
    console.error(
      [
        "test set-up: the tests need programs this machine lacks:",
        ...missing.map((requirement) => `  - ${requirement.what}`),
        `Debian/Ubuntu: sudo apt-get install ${packages.join(" ")}`,
        `macOS: ${[...new Set(missing.map((requirement) => requirement.macos))].join("; ")}`,
      ].join("\n"),
    );
    process.exit(1);
  }
  const still = REQUIREMENTS.filter((requirement) => !requirement.found());
  if (still.length > 0) {
    console.error(`test set-up: still missing after apt-get: ${still.map((r) => r.what).join(", ")}`);
    process.exit(1);
  }
}
