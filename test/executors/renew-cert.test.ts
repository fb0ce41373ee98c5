// RENEW_CERT runs real small scripts written to a temporary directory.
import { chmod, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTPUT_LIMIT, renewCert, runCommand, type RenewCertDeps } from "../../executors/renew-cert.js";
import { parseTargets } from "../../executors/targets.js";

let dir: string;
let deps: RenewCertDeps;
let argsFile: string;
let certFile: string;
let pwned: string;

async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "renew-cert-"));
  argsFile = join(dir, "args.txt");
  certFile = join(dir, "cert.pem");
  pwned = join(dir, "pwned");
  // writes each argument on its own line, then rewrites the certificate
  const renew = await script(
    "renew.sh",
    'out="$1"; cert="$2"; shift 2\nfor a in "$@"; do printf \'%s\\n\' "$a"; done > "$out"\necho renewed > "$cert"\necho "Congratulations, all renewals succeeded"',
  );
  const noop = await script("noop.sh", "echo 'Certificate not yet due for renewal'");
  const fail = await script("fail.sh", "echo 'too many certificates already issued' >&2\nexit 3");
  const hang = await script("hang.sh", "sleep 30 &\nwait");
  const chatty = await script(
    "chatty.sh",
    'i=0\nwhile [ $i -lt 2000 ]; do echo "line $i of a very chatty renewal client"; i=$((i+1)); done',
  );
  const yaml = `
renew_cert:
  api-cert:
    command: ["${renew}", "${argsFile}", "${certFile}", "$(touch ${pwned})", "; rm -rf /", "a b", "\`id\`"]
    timeout_seconds: 10
    cert_file: "${certFile}"
    aliases: [api.example.com]
  not-due: { command: ["${noop}"], cert_file: "${certFile}" }
  no-file: { command: ["${noop}"] }
  failing: { command: ["${fail}"] }
  hanging: { command: ["${hang}"], timeout_seconds: 1 }
  chatty: { command: ["${chatty}"] }
  missing: { command: ["${join(dir, "nope.sh")}"] }
`;
  deps = { certificates: parseTargets(yaml, "test.yaml").renew_cert };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("RENEW_CERT", () => {
  it("runs the configured argv without a shell: metacharacters arrive literally", async () => {
    await writeFile(certFile, "old");
    const old = new Date(Date.now() - 86_400_000);
    await utimes(certFile, old, old);
    const p = renewCert.params.parse({ certificate: "api.example.com" });
    expect(await renewCert.guard(deps, p)).toEqual({ ok: true });
    const result = await renewCert.execute(deps, p, { dryRun: false });
    expect(result.changed).toBe(true);
    expect(result.detail).toMatchObject({ exitCode: 0, stdout: "Congratulations, all renewals succeeded\n" });
    expect((await readFile(argsFile, "utf8")).split("\n")).toEqual([
      `$(touch ${pwned})`,
      "; rm -rf /",
      "a b",
      "`id`",
      "",
    ]);
    expect(await exists(pwned)).toBe(false);
    expect(await readFile(certFile, "utf8")).toBe("renewed\n");
    expect(await renewCert.verify(deps, p, result)).toMatchObject({ outcome: "recovered" });
  });

  it("fails verification when the command exits 0 but the certificate file was not rewritten", async () => {
    await writeFile(certFile, "old");
    const result = await renewCert.execute(deps, { certificate: "not-due" }, { dryRun: false });
    expect(result.detail).toMatchObject({ exitCode: 0 });
    expect(await renewCert.verify(deps, { certificate: "not-due" }, result)).toMatchObject({
      outcome: "failed",
      detail: expect.stringContaining("was not rewritten") as unknown,
    });
    const plain = await renewCert.execute(deps, { certificate: "no-file" }, { dryRun: false });
    expect(await renewCert.verify(deps, { certificate: "no-file" }, plain)).toMatchObject({
      outcome: "recovered",
    });
  });

  it("reports the exit code and the error output of a failed renewal", async () => {
    const failing = renewCert.execute(deps, { certificate: "failing" }, { dryRun: false });
    await expect(failing).rejects.toThrow(/exited with 3: too many certificates already issued/);
    // the same words as data, for the card to say in BOT_LANGUAGE
    await expect(failing).rejects.toMatchObject({
      said: { code: "command_failed", action: "RENEW_CERT", ended: "exited", exitCode: 3 },
    });
  });

  it("kills a command that outlives its timeout", async () => {
    const started = performance.now();
    await expect(renewCert.execute(deps, { certificate: "hanging" }, { dryRun: false })).rejects.toThrow(
      "timed out after 1 s",
    );
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it("kills the whole process group on timeout, even a child that ignores SIGTERM", async () => {
    const pidFile = join(dir, "stubborn.pid");
    const stubborn = await script(
      "stubborn.sh",
      `(trap '' TERM; exec sleep 30) </dev/null >/dev/null 2>&1 &\necho $! > "${pidFile}"\nwait`,
    );
    const outcome = await runCommand([stubborn], { timeoutMs: 500 });
    expect(outcome.timedOut).toBe(true);
    const pid = Number(await readFile(pidFile, "utf8"));
    const alive = async () => {
      const state = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
      return state !== "" && !/^\d+ \(.*\) Z/.test(state);
    };
    try {
      const deadline = Date.now() + 1_500;
      while ((await alive()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await alive()).toBe(false);
    } finally {
      if (await alive()) process.kill(pid, "SIGKILL");
    }
  });

  it("kills the command when the execution is aborted", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 200);
    const outcome = await runCommand([join(dir, "hang.sh")], {
      timeoutMs: 20_000,
      signal: controller.signal,
    });
    expect(outcome).toMatchObject({ aborted: true, timedOut: false, exitCode: null, signal: "SIGTERM" });
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("keeps only the end of a long output", async () => {
    const result = await renewCert.execute(deps, { certificate: "chatty" }, { dryRun: false });
    const stdout = String(result.detail?.stdout);
    expect(stdout.length).toBeLessThan(OUTPUT_LIMIT + 100);
    expect(stdout).toMatch(/^…\(\d+ bytes dropped\)\n/);
    expect(stdout).toContain("line 1999 of a very chatty renewal client");
  });

  it("runs nothing in dry run and reports the argv it would run", async () => {
    await rm(argsFile, { force: true });
    const result = await renewCert.execute(deps, { certificate: "api-cert" }, { dryRun: true });
    expect(result.changed).toBe(false);
    expect(result.calls).toEqual([
      {
        api: "process",
        method: "spawn",
        args: {
          certificate: "api-cert",
          argv: deps.certificates["api-cert"]?.command,
          shell: false,
          timeoutSeconds: 10,
          certFile,
        },
      },
    ]);
    expect(await exists(argsFile)).toBe(false);
  });

  it("refuses a certificate that is not configured, and a command that is not there", async () => {
    expect(await renewCert.guard(deps, { certificate: "www.example.com" })).toMatchObject({
      ok: false,
      rule: "configured_target",
      reason: expect.stringContaining("www.example.com is not a configured certificate") as unknown,
    });
    expect(await renewCert.guard(deps, { certificate: "missing" })).toMatchObject({
      ok: false,
      rule: "target_exists",
    });
  });

  it("takes no command or argument from params", () => {
    expect(renewCert.params.safeParse({ certificate: "api-cert", command: ["/bin/sh"] }).success).toBe(false);
    expect(renewCert.params.safeParse({ certificate: "api-cert; reboot" }).success).toBe(false);
    expect(renewCert.params.safeParse({ certificate: "$(reboot)" }).success).toBe(false);
  });
});
