// Container and Kubernetes pod of a connection's owner, derived from its
// cgroup path (docker, containerd, cri-o, podman; cgroup v1 and v2; systemd
// and cgroupfs drivers). Nothing here talks to a runtime: it cannot hang.
import { readFileSync } from 'node:fs';

export interface ContainerInfo {
  container_id?: string;
  container_runtime?: 'docker' | 'containerd' | 'cri-o' | 'podman';
  pod_uid?: string;
  qos_class?: 'guaranteed' | 'burstable' | 'besteffort';
}

const ID = '([0-9a-f]{64})';
const RUNTIMES: [RegExp, NonNullable<ContainerInfo['container_runtime']>][] = [
  [new RegExp(`(?:^|/)docker-${ID}\\.scope$`), 'docker'],
  [new RegExp(`/docker/${ID}$`), 'docker'],
  [new RegExp(`(?:^|/)cri-containerd-${ID}\\.scope$`), 'containerd'],
  [new RegExp(`(?:^|/)crio-(?:conmon-)?${ID}(?:\\.scope)?$`), 'cri-o'],
  [new RegExp(`(?:^|/)libpod-(?:conmon-)?${ID}(?:\\.scope)?(?:/container)?$`), 'podman'],
];
const BARE_ID = new RegExp(`/${ID}$`); // cgroupfs driver under kubepods: the runtime is not in the path
const POD =
  /(?:^|\/)kubepods(?:-([a-z]+))?(?:\.slice)?\/(?:kubepods-([a-z]+)\.slice\/|([a-z]+)\/)?(?:kubepods-(?:[a-z]+-)?)?pod([0-9a-f_-]{36})(?:\.slice)?(?:\/|$)/;

/** Container facts from one cgroup path ("/kubepods.slice/.../cri-containerd-<id>.scope"). */
export function parseCgroupPath(path: string): ContainerInfo {
  const info: ContainerInfo = {};
  for (const [re, runtime] of RUNTIMES) {
    const m = re.exec(path);
    if (m) {
      info.container_id = m[1];
      info.container_runtime = runtime;
      break;
    }
  }
  const pod = POD.exec(path);
  if (pod) {
    info.pod_uid = pod[4].replace(/_/g, '-');
    const qos = pod[2] ?? pod[3] ?? pod[1];
    info.qos_class = qos === 'burstable' || qos === 'besteffort' ? qos : 'guaranteed';
    if (!info.container_id) {
      const bare = BARE_ID.exec(path);
      if (bare) info.container_id = bare[1];
    }
  }
  return info;
}

/** Container facts from /proc/PID/cgroup text: the first hierarchy that names a container. */
export function parseProcCgroup(text: string): ContainerInfo {
  let best: ContainerInfo = {};
  for (const line of text.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    if (!path) continue;
    const info = parseCgroupPath(path);
    if (info.container_id) return info;
    if (info.pod_uid && !best.pod_uid) best = info;
  }
  return best;
}

/** Owners remembered at most (here and by the native encoder): then the cache starts again. */
export const CONTAINER_CACHE_MAX = 100_000;

/**
 * Resolves (cgroup id, pid) to container facts, once per cgroup: cgroup ids
 * are never reused while the host runs. On hosts without cgroup v2 every
 * process has the root id (1), so those are resolved per PID.
 */
export class ContainerResolver {
  private readonly byCgroup = new Map<number, ContainerInfo>();
  private readonly byPid = new Map<number, ContainerInfo>();

  constructor(private readonly read: (pid: number) => string = (pid) => readFileSync(`/proc/${pid}/cgroup`, 'utf8')) {}

  lookup(cgroupId: number, pid: number): ContainerInfo {
    const perPid = cgroupId <= 1;
    const cache = perPid ? this.byPid : this.byCgroup;
    const key = perPid ? pid : cgroupId;
    let info = cache.get(key);
    if (info === undefined) {
      try {
        info = pid > 0 ? parseProcCgroup(this.read(pid)) : {};
      } catch {
        info = {}; // the process is gone: fail soft
      }
      if (cache.size >= CONTAINER_CACHE_MAX) cache.clear();
      cache.set(key, info);
    }
    return info;
  }
}
