// Learned playbooks are stored under an incident signature. `playbookSignatures` gives the
// signatures of an incident, most specific first; store a new playbook under the first one.
import { isSuggestedAction } from "./actions.js";
import { type AnalysisContext, type Playbook } from "./analysis-context.js";
import { deploymentOfPod } from "./scope.js";

export function playbookSignatures(context: AnalysisContext): string[] {
  const l = context.labels;
  if (context.source === "sentry") {
    const project = l.project ?? "-";
    const where = context.sentryIssue?.culprit ?? context.annotations.culprit ?? context.title;
    return [`sentry:${project}:${where}`, `sentry:${project}`];
  }
  const alert = l.alertname ?? context.title;
  const workload =
    l.deployment ??
    (l.pod === undefined ? undefined : deploymentOfPod(l.pod)) ??
    l.statefulset ??
    l.container ??
    l.service ??
    l.instance;
  return [
    `${context.source}:${alert}:${l.namespace ?? "-"}:${workload ?? "-"}`,
    `${context.source}:${alert}`,
  ];
}

export interface PlaybookMatch {
  playbook: Playbook;
  /** Success ratio with one imagined success and one failure added, so 1/1 is not certainty. */
  confidence: number;
}

export const MAX_PLAYBOOK_CONFIDENCE = 0.9;

/** The best trustworthy playbook for this incident: most specific signature, then best record. */
export function matchPlaybooks(context: AnalysisContext, playbooks: readonly Playbook[]): PlaybookMatch[] {
  const signatures = playbookSignatures(context);
  return playbooks
    .filter(
      (p) =>
        signatures.includes(p.signature) &&
        isSuggestedAction(p.action) &&
        Number.isFinite(p.successes) &&
        Number.isFinite(p.failures) &&
        p.successes > 0 &&
        p.successes > p.failures,
    )
    .map((playbook) => ({
      playbook,
      confidence: Math.min(
        MAX_PLAYBOOK_CONFIDENCE,
        (playbook.successes + 1) / (playbook.successes + playbook.failures + 2),
      ),
    }))
    .sort(
      (a, b) =>
        signatures.indexOf(a.playbook.signature) - signatures.indexOf(b.playbook.signature) ||
        b.confidence - a.confidence,
    );
}

/** A playbook saying `action` has mostly failed for this incident: a reason to ask a human. */
export function failingPlaybook(
  context: AnalysisContext,
  playbooks: readonly Playbook[],
  action: string,
): Playbook | undefined {
  const signatures = playbookSignatures(context);
  return playbooks.find(
    (p) =>
      signatures.includes(p.signature) && p.action === action && p.failures >= 2 && p.failures > p.successes,
  );
}
