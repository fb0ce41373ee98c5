// What an alert is ABOUT, read from its labels. Prometheus attaches the labels of the scrape
// target (`job`, `service`, `pod`, `container`, `instance`, `endpoint`) to every series, so for an
// exporter such as kube-state-metrics, node-exporter, the kubelet or blackbox they name the
// exporter, not the subject. One precedence, used by the normalizer (service and card target),
// the registry lookup and the set of resources a model may act on:
//
//   1. workload labels: deployment, statefulset, daemonset, job_name (its CronJob as the service),
//      cronjob, pod (its owner as the service; not when the pod is the exporter's own),
//      persistentvolumeclaim, node;
//   2. the probed target of a probe (blackbox: `instance` / `target`), or the host of a host exporter;
//   3. service, app, app_kubernetes_io_name (not when they name the exporter), then container,
//      then instance, with `job` as the service only when it is not an exporter's job;
//   4. only when nothing else is named: the exporter itself (TargetDown of kube-state-metrics).
//
// Never the scraping job or exporter when the alert's own labels name a subject.
import type { CardTarget } from "./incident.js";

export interface Subject {
  /** The resource the card's target line names. */
  target?: CardTarget;
  /** The service the registry is asked about. */
  service?: string;
}

/** Prometheus jobs of exporters whose target labels describe the exporter, not what it measures. */
const EXPORTER_JOB =
  /(kube-state-metrics|node-exporter|node_exporter|kubelet|cadvisor|blackbox|probe|windows-exporter|process-exporter|[-_]exporter$)/i;
const PROBE_JOB = /(blackbox|probe|icmp|ping|http[-_]?check)/i;
/** Exporters that measure the host they run on: `instance` is that host. */
const HOST_EXPORTER_JOB = /(node-exporter|node_exporter|windows-exporter|process-exporter)/i;

/** Whether `job` names an exporter (its target labels then describe the exporter). */
export function isExporterJob(job: string | undefined): boolean {
  return job !== undefined && EXPORTER_JOB.test(job);
}

/** Whether `value` (a pod, service, app or container label) names the exporter that scraped the alert. */
export function namesExporter(labels: Readonly<Record<string, string>>, value: string | undefined): boolean {
  const job = labels.job;
  if (value === undefined || job === undefined) return false;
  if (value === job) return isExporterJob(job);
  if (!isExporterJob(job)) return false;
  // kube-prometheus-stack names the exporter's pod and service after the job:
  // `kube-prometheus-stack-kube-state-metrics-84756b4547-vblfb` for job `kube-state-metrics`.
  return (
    value.includes(job) ||
    (labels.container !== undefined && value === labels.container && labels.container === job)
  );
}

/** The deployment a ReplicaSet pod belongs to: `awoooi-api-7d9f8b6c5-x2k4q` → `awoooi-api`. */
export function deploymentOfPod(pod: string): string | undefined {
  return /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/.exec(pod)?.[1];
}

/** The workload a pod belongs to by its name: ReplicaSet, then Job/DaemonSet, then StatefulSet pods. */
export function ownerOfPod(pod: string): string {
  return deploymentOfPod(pod) ?? /^(.+)-[a-z0-9]{5}$/.exec(pod)?.[1] ?? /^(.+)-\d+$/.exec(pod)?.[1] ?? pod;
}

/** A CronJob's Job is `<cronjob>-<scheduled minute>`; a release Job often ends in a version. */
export function ownerOfJob(job: string): string {
  return /^(.+)-(\d{8,}|\d+(?:\.\d+)+)$/.exec(job)?.[1] ?? job;
}

function hostOf(instance: string): string {
  // "10.0.0.31:9100" → "10.0.0.31"; "[::1]:9100" → "::1"
  const bracketed = /^\[(.+)\](?::\d+)?$/.exec(instance);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  return instance.replace(/:\d+$/, "");
}

/**
 * The labels that describe the subject: the alert's labels without those naming the exporter
 * (`service`, `pod`, `container`, `app…`, and `job` of an exporter), and without the exporter's own
 * namespace when the subject is cluster-scoped (a Node). Registry lookups and the analysis scope read these.
 */
export function subjectLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = { ...labels };
  const exporterJob = isExporterJob(labels.job);
  for (const key of ["service", "pod", "container", "app", "app_kubernetes_io_name", "kubernetes_name"])
    if (namesExporter(labels, labels[key])) delete result[key];
  if (exporterJob) {
    delete result.job;
    delete result.endpoint;
    // the pod label was the exporter's: its namespace is the exporter's too, unless a workload label names one
    const namespacedSubject = [
      "deployment",
      "statefulset",
      "daemonset",
      "job_name",
      "cronjob",
      "persistentvolumeclaim",
    ].some((key) => labels[key] !== undefined);
    if (labels.pod !== undefined && result.pod === undefined && !namespacedSubject) delete result.namespace;
  }
  return result;
}

/** What the alert is about, by the precedence at the top of this file. */
export function subjectOf(labels: Readonly<Record<string, string>>): Subject {
  const own = subjectLabels(labels);
  const namespace = own.namespace;
  const within = namespace === undefined ? {} : { namespace };
  const pod = own.pod;

  if (own.deployment !== undefined) {
    // a crash-looping pod of the deployment is more specific for the card; the service is the deployment
    if (pod !== undefined && deploymentOfPod(pod) === own.deployment)
      return { target: { kind: "Pod", name: pod, ...within }, service: own.deployment };
    return { target: { kind: "Deployment", name: own.deployment, ...within }, service: own.deployment };
  }
  if (own.statefulset !== undefined)
    return { target: { kind: "StatefulSet", name: own.statefulset, ...within }, service: own.statefulset };
  if (own.daemonset !== undefined)
    return { target: { kind: "DaemonSet", name: own.daemonset, ...within }, service: own.daemonset };
  if (own.job_name !== undefined)
    return { target: { kind: "Job", name: own.job_name, ...within }, service: ownerOfJob(own.job_name) };
  if (own.cronjob !== undefined)
    return { target: { kind: "CronJob", name: own.cronjob, ...within }, service: own.cronjob };
  if (pod !== undefined) return { target: { kind: "Pod", name: pod, ...within }, service: ownerOfPod(pod) };
  if (own.persistentvolumeclaim !== undefined)
    return {
      target: { kind: "PersistentVolumeClaim", name: own.persistentvolumeclaim, ...within },
      service: own.persistentvolumeclaim,
    };
  if (own.node !== undefined) return { target: { kind: "Node", name: own.node } };

  const probed = own.target ?? own.instance;
  if (probed !== undefined && labels.job !== undefined && PROBE_JOB.test(labels.job))
    return { target: { kind: /^https?:\/\//i.test(probed) ? "URL" : "Host", name: probed } };
  if (own.instance !== undefined && labels.job !== undefined && HOST_EXPORTER_JOB.test(labels.job))
    return { target: { kind: "Host", name: hostOf(own.instance) } };

  const found = serviceSubject(own);
  if (found.target !== undefined || found.service !== undefined) return found;
  // Nothing but the exporter is named (TargetDown{job="kube-state-metrics", service=…}): then the
  // exporter itself is what the alert is about.
  return serviceSubject(labels);
}

function serviceSubject(labels: Readonly<Record<string, string>>): Subject {
  const within = labels.namespace === undefined ? {} : { namespace: labels.namespace };
  const service = labels.service ?? labels.app ?? labels.app_kubernetes_io_name ?? labels.job;
  const named = service === undefined ? {} : { service };
  if (labels.container !== undefined)
    return { target: { kind: "Container", name: labels.container, ...within }, ...named };
  if (labels.instance !== undefined) return { target: { kind: "Instance", name: labels.instance }, ...named };
  return named;
}
