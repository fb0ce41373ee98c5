// RENEW_CERT: runs the renewal command the targets file gives for one certificate, as an
// argument array without a shell (the action list, domain/actions.ts). An analysis only picks the certificate by
// name; no string of it reaches argv. The command runs under a timeout, is killed when the
// execution is aborted, and its output is kept, bounded, for the audit log.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { z } from "zod";
import {
  type ExecutionResult,
  type Executor,
  type PlannedCall,
  type VerifyResult,
  ExecutionFailure,
  refusal,
  verdict,
} from "./executor.js";
import { findTarget, TARGET_NAME, type CertTarget } from "./targets.js";

export interface RenewCertParams {
  /** A `renew_cert` name of the targets file, or one of its aliases. */
  certificate: string;
}

export interface RenewCertDeps {
  certificates: Readonly<Record<string, CertTarget>>;
}

/** Bytes of stdout and of stderr kept (the end of each, where the verdict usually is). */
export const OUTPUT_LIMIT = 8 * 1024;
/** After SIGTERM, this long before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** After the command exits, this long for a leftover child still holding its output open. */
const CLOSE_GRACE_MS = 2_000;

const params = z.strictObject({
  certificate: z.string().regex(TARGET_NAME, { error: "not a certificate name" }),
});

const before = z.object({ certificate: z.string(), certMtimeMs: z.number().nullable() });
const detail = z.object({ exitCode: z.number().nullable() });

export interface CommandOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Keeps the last `limit` bytes of a stream. */
function tail(limit: number): { push(chunk: Buffer): void; text(): string } {
  let kept = Buffer.alloc(0);
  let dropped = 0;
  return {
    push(chunk) {
      kept = Buffer.concat([kept, chunk]);
      if (kept.length > limit) {
        dropped += kept.length - limit;
        kept = kept.subarray(kept.length - limit);
      }
    },
    text: () => (dropped > 0 ? `…(${dropped} bytes dropped)\n` : "") + kept.toString("utf8"),
  };
}

/** Runs argv[0] with the rest as its arguments, no shell; never rejects for the command's own failure. */
export function runCommand(
  argv: readonly [string, ...string[]],
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<CommandOutcome> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const [file, ...args] = argv;
    // Its own process group, so a timeout or an abort stops whatever the command started too.
    const child = spawn(file, args, {
      shell: false,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const stdout = tail(OUTPUT_LIMIT);
    const stderr = tail(OUTPUT_LIMIT);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    let aborted = false;
    let killer: NodeJS.Timeout | undefined;
    let closer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal); // the group is gone already
      }
    };
    const stop = (): void => {
      signalGroup("SIGTERM");
      killer ??= setTimeout(() => signalGroup("SIGKILL"), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (options.signal?.aborted === true) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    const cleanUp = (): void => {
      clearTimeout(timer);
      if (killer !== undefined) clearTimeout(killer);
      if (closer !== undefined) clearTimeout(closer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (error) => {
      cleanUp();
      reject(error);
    });
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      // Once stopped, nothing of the group may outlive the leader: cleanUp cancels the delayed SIGKILL.
      if (timedOut || aborted) signalGroup("SIGKILL");
      cleanUp();
      resolvePromise({
        exitCode,
        signal,
        timedOut,
        aborted,
        stdout: stdout.text(),
        stderr: stderr.text(),
        ms: Math.round(performance.now() - started),
      });
    };
    child.on("close", finish);
    child.on("exit", (exitCode, signal) => {
      // Normally "close" follows at once; a child left behind may hold the pipes open.
      closer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(exitCode, signal);
      }, CLOSE_GRACE_MS);
    });
  });
}

async function mtimeOf(path: string | undefined): Promise<number | null> {
  if (path === undefined) return null;
  return (await stat(path).catch(() => undefined))?.mtimeMs ?? null;
}

function plan(input: RenewCertParams, found?: { name: string; target: CertTarget }): PlannedCall[] {
  return [
    {
      api: "process",
      method: "spawn",
      args: {
        certificate: found?.name ?? input.certificate,
        ...(found === undefined
          ? {}
          : {
              argv: found.target.command,
              shell: false,
              timeoutSeconds: found.target.timeout_seconds,
              ...(found.target.cert_file === undefined ? {} : { certFile: found.target.cert_file }),
            }),
      },
    },
  ];
}

export const renewCert: Executor<RenewCertParams, RenewCertDeps> = {
  name: "RENEW_CERT",
  description: "Runs the renewal command configured for a certificate (argument array, no shell).",
  params,

  async guard(deps, input) {
    const found = findTarget(deps.certificates, input.certificate);
    if (found === undefined) {
      return refusal("configured_target", {
        code: "cert_unlisted",
        certificate: input.certificate,
        configured: Object.keys(deps.certificates).join(", "),
      });
    }
    const program = found.target.command[0];
    try {
      await access(program, constants.X_OK);
    } catch {
      return refusal("target_exists", { code: "cert_not_executable", program });
    }
    return { ok: true };
  },

  plan: (input) => plan(input),

  async execute(deps, input, context): Promise<ExecutionResult> {
    const found = findTarget(deps.certificates, input.certificate);
    if (found === undefined)
      throw new ExecutionFailure({ code: "not_configured", action: "RENEW_CERT", name: input.certificate });
    const calls = plan(input, found);
    const recorded = { certificate: found.name, certMtimeMs: await mtimeOf(found.target.cert_file) };
    if (context.dryRun) return { changed: false, calls, before: recorded };
    context.signal?.throwIfAborted();
    const outcome = await runCommand(found.target.command, {
      timeoutMs: found.target.timeout_seconds * 1000,
      signal: context.signal,
    });
    if (outcome.exitCode !== 0) {
      throw new ExecutionFailure({
        code: "command_failed",
        action: "RENEW_CERT",
        program: found.target.command[0],
        ended: outcome.timedOut
          ? "timeout"
          : outcome.aborted
            ? "aborted"
            : outcome.exitCode === null
              ? "killed"
              : "exited",
        seconds: found.target.timeout_seconds,
        signal: outcome.signal ?? "",
        exitCode: outcome.exitCode ?? 0,
        output: (outcome.stderr.trim() || outcome.stdout.trim()).slice(-1000),
      });
    }
    return {
      changed: true,
      calls,
      before: recorded,
      detail: { exitCode: outcome.exitCode, ms: outcome.ms, stdout: outcome.stdout, stderr: outcome.stderr },
    };
  },

  async verify(deps, _input, result): Promise<VerifyResult> {
    const previous = before.parse(result.before);
    const ran = detail.safeParse(result.detail ?? {});
    if (!ran.success || ran.data.exitCode !== 0) {
      return verdict("failed", { code: "cert_exit_nonzero" });
    }
    const certFile = deps.certificates[previous.certificate]?.cert_file;
    if (certFile === undefined) return verdict("recovered", { code: "cert_exited" });
    const now = await mtimeOf(certFile);
    if (now === null) return verdict("failed", { code: "cert_missing", file: certFile });
    if (previous.certMtimeMs !== null && now <= previous.certMtimeMs) {
      return verdict("failed", { code: "cert_not_rewritten", file: certFile });
    }
    return verdict("recovered", { code: "cert_rewritten", file: certFile, at: new Date(now).toISOString() });
  },
};
