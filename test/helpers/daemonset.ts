// deploy/kubernetes's DaemonSet as the tests read it: the fields they use,
// and the environment the kubelet gives its container.

export interface Container {
  name: string;
  command: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  envFrom: { configMapRef: { name: string } }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    capabilities: { drop: string[]; add: string[] };
  };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  priorityClassName: string;
  tolerations: unknown[];
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string }; emptyDir?: { sizeLimit?: string } }[];
}

/**
 * The container's environment as the kubelet makes it on a node "test-node"
 * whose address is 127.0.0.1: the ConfigMap's data, then `env` in order,
 * the downward API's fields filled in and $(VAR) expanded from what came before.
 */
export function kubeletEnv(c: Container, config: Record<string, string>): Record<string, string> {
  const field: Record<string, string> = { 'spec.nodeName': 'test-node', 'status.hostIP': '127.0.0.1' };
  const env: Record<string, string> = { ...config };
  for (const e of c.env) {
    const v = e.valueFrom?.fieldRef ? field[e.valueFrom.fieldRef.fieldPath] : (e.value ?? '');
    env[e.name] = v.replace(/\$\(([A-Z_]+)\)/g, (_, n: string) => env[n] ?? '');
  }
  return env;
}
