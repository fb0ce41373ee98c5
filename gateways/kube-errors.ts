// What a Kubernetes call can fail with, apart from the client that makes the calls: the executors
// and use cases import these without loading @kubernetes/client-node (about 80 MB of memory),
// which only a process with a cluster configured loads (executors/kube-gateway.ts).

export const KUBE_ERRORS = {
  not_found: "the object does not exist",
  conflict: "the object changed meanwhile, or is not in a state that allows this",
  invalid: "the API server rejected the change as invalid",
  unauthorized: "the kubeconfig credentials were refused",
  forbidden: "the kubeconfig user may not do this",
  no_history: "the deployment has no previous revision to roll back to",
  unreachable: "the API server could not be reached",
  failed: "the API server answered with an error",
} as const;

export type KubeErrorCode = keyof typeof KUBE_ERRORS;

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
  }
}
