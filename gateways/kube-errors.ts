// What a Kubernetes call can fail with, apart from the client that makes the calls: the executors
// and use cases import these without loading @kubernetes/client-node (about 80 MB of memory),
// which only a process with a cluster configured loads (executors/kube-gateway.ts).

export const KUBE_ERRORS = {
  not_found: "the object does not exist",
  conflict: "the object changed meanwhile, or is not in a state that allows this",
  invalid: "the API server rejected the change as invalid",
  unauthorized: "the kubeconfig credentials were refused",
  forbidden: "the service account or kubeconfig user may not do this (RBAC)",
  no_history: "the deployment has no previous revision to roll back to",
  unreachable: "the API server could not be reached",
  failed: "the API server answered with an error",
} as const;

export type KubeErrorCode = keyof typeof KUBE_ERRORS;

/** What an RBAC refusal names: who may not do which verb on which resource where. */
export interface Forbidden {
  user: string;
  verb: string;
  /** With its subresource: `pods/eviction`, `deployments/scale`. */
  resource: string;
  apiGroup: string;
  /** Undefined at the cluster scope. */
  namespace?: string;
}

/**
 * Reads the API server's forbidden message (`… is forbidden: User "u" cannot delete resource
 * "pods" in API group "" in the namespace "ns"`, or `… at the cluster scope`).
 */
export function parseForbidden(message: string): Forbidden | undefined {
  const match =
    /User "([^"]*)" cannot ([a-z]+) resource "([^"]+)" in API group "([^"]*)" (?:in the namespace "([^"]+)"|at the cluster scope)/.exec(
      message,
    );
  if (match === null) return undefined;
  const [, user = "", verb = "", resource = "", apiGroup = "", namespace] = match;
  return { user, verb, resource, apiGroup, ...(namespace === undefined ? {} : { namespace }) };
}

export class KubeError extends Error {
  override readonly name = "KubeError";
  constructor(
    readonly code: KubeErrorCode,
    /** The API server's own message when there is one. */
    detail?: string,
    /** HTTP status from the API server; absent when it never answered. */
    readonly status?: number,
  ) {
    super(detail ?? KUBE_ERRORS[code]);
    this.forbidden = code === "forbidden" ? parseForbidden(this.message) : undefined;
  }

  /** For a 403: the verb and resource refused, when the API server's message names them. */
  readonly forbidden: Forbidden | undefined;
}
