// Container and Kubernetes pod of a connection's owner, derived from its
// cgroup path (docker, containerd, cri-o, podman; cgroup v1 and v2; systemd
// and cgroupfs drivers). Nothing here talks to a runtime: it cannot hang.
//
// Any user can name a cgroup of their own (under user@UID.service) after a
// container, so a pattern counts only at the place where the runtime itself
// puts containers, from the root of the hierarchy; and an answer is cached
// only under a key a reused pid cannot fool.
import { readFileSync, statSync } from 'node:fs';

export interface ContainerInfo {
  container_id?: string;
  container_runtime?: 'docker' | 'containerd' | 'cri-o' | 'podman';
  pod_uid?: string;
  qos_class?: 'guaranteed' | 'burstable' | 'besteffort';
}

type Runtime = NonNullable<ContainerInfo['container_runtime']>;

const ID = '(?<id>[0-9a-f]{64})';
const QOS = '(?:(?<qos>burstable|besteffort))';
/** Kubelet's pod cgroup: systemd driver (underscores in the uid), cgroupfs driver. */
const POD_SYSTEMD = `/kubepods\\.slice(?:/kubepods-${QOS}\\.slice)?/kubepods(?:-(?:burstable|besteffort))?-pod(?<pod>[0-9a-f_]{36})\\.slice`;
const POD_CGROUPFS = `/kubepods(?:/${QOS})?/pod(?<pod>[0-9a-f-]{36})`;

/**
 * Where each runtime puts a container, from the root of the hierarchy
 * (the runtimes' and kubelet's defaults). Nothing under user.slice counts.
 */
const PLACES: [RegExp, Runtime | undefined][] = [
  [new RegExp(`^/system\\.slice/docker-${ID}\\.scope$`), 'docker'],
  [new RegExp(`^/docker/${ID}$`), 'docker'],
  [new RegExp(`^/machine\\.slice/libpod-(?:conmon-)?${ID}\\.scope(?:/container)?$`), 'podman'],
  [new RegExp(`^/machine/libpod-(?:conmon-)?${ID}(?:/container)?$`), 'podman'],
  [new RegExp(`^${POD_SYSTEMD}/cri-containerd-${ID}\\.scope$`), 'containerd'],
  [new RegExp(`^${POD_SYSTEMD}/crio-(?:conmon-)?${ID}(?:\\.scope)?$`), 'cri-o'],
  [new RegExp(`^${POD_SYSTEMD}/docker-${ID}\\.scope$`), 'docker'],
  // cgroupfs driver under kubepods: the runtime is not in the path.
  [new RegExp(`^${POD_CGROUPFS}/${ID}$`), undefined],
];
const POD_ONLY = [new RegExp(`^${POD_SYSTEMD}(?:/|$)`), new RegExp(`^${POD_CGROUPFS}(?:/|$)`)];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function podOf(groups: Record<string, string | undefined>): Pick<ContainerInfo, 'pod_uid' | 'qos_class'> {
  const uid = groups.pod?.replace(/_/g, '-');
  if (uid === undefined || !UUID.test(uid)) return {};
  return {
    pod_uid: uid,
    qos_class: groups.qos === 'burstable' || groups.qos === 'besteffort' ? groups.qos : 'guaranteed',
  };
}

/**
 * Container facts from one cgroup path ("/kubepods.slice/.../cri-containerd-<id>.scope"),
 * as seen from the host's cgroup namespace. Leading "/.." (a path above
 * nettracer's own cgroup namespace) is dropped: no cgroup can be named so.
 */
export function parseCgroupPath(path: string): ContainerInfo {
  const p = path.replace(/^(?:\/\.\.)+(?=\/)/, '');
  for (const [re, runtime] of PLACES) {
    const g = re.exec(p)?.groups;
    if (!g) continue;
    const pod = podOf(g);
    // Under kubepods, a container of a pod whose uid is not one is no container.
    if (g.pod !== undefined && pod.pod_uid === undefined) return {};
    return { container_id: g.id, ...(runtime ? { container_runtime: runtime } : {}), ...pod };
  }
  for (const re of POD_ONLY) {
    const g = re.exec(p)?.groups;
    if (g) return podOf(g);
  }
  return {};
}

/** One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH" (the path may hold colons). */
function paths(text: string): { v2?: string; v1: string[] } {
  const out: { v2?: string; v1: string[] } = { v1: [] };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') out.v2 = m[3];
    else out.v1.push(m[3]);
  }
  return out;
}

/** Container facts from /proc/PID/cgroup text: the first hierarchy that names a container. */
export function parseProcCgroup(text: string): ContainerInfo {
  let best: ContainerInfo = {};
  const { v2, v1 } = paths(text);
  for (const path of v2 === undefined ? v1 : [v2, ...v1]) {
    const info = parseCgroupPath(path);
    if (info.container_id) return info;
    if (info.pod_uid && !best.pod_uid) best = info;
  }
  return best;
}

/** Owners remembered at most (here and by the native encoder): then the cache starts again. */
export const CONTAINER_CACHE_MAX = 100_000;

/** What the resolver reads of the host (the tests give their own). */
export interface HostView {
  /** /proc/PID/cgroup. */
  cgroup(pid: number): string;
  /** /proc/PID/stat field 22 (clock ticks since boot), as the kernel's record's owner_start. */
  start(pid: number): number;
  /** The inode of a cgroup v2 directory (its cgroup id), by its path from the root. */
  cgroupId(path: string): number;
}

/** Where cgroup v2 is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts. */
function cgroup2Mount(): string | undefined {
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [mount, rest] = line.split(' - ');
      if (rest?.startsWith('cgroup2 ')) return mount.split(' ')[4];
    }
  } catch {
    // no /proc: no cgroup v2 either
  }
  return undefined;
}

export function hostView(): HostView {
  const v2 = cgroup2Mount();
  return {
    cgroup: (pid) => readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
    start: (pid) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After the last ')' (comm may hold anything): field 3 onwards; 22 is the start.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    },
    cgroupId: (path) => (v2 === undefined ? -1 : statSync(v2 + path, { bigint: false }).ino),
  };
}

/** The owner of a record, as the kernel saw it. */
export interface Owner {
  cgroup_id: number;
  pid: number;
  /** /proc/PID/stat's start of the owner (clock ticks since boot, 32 bits). */
  owner_start: number;
}

/**
 * Resolves a record's owner to container facts. The facts come from
 * /proc/PID/cgroup, read only while PID is still the owner (its start time
 * is the record's). They are kept by cgroup id when the host has cgroup v2
 * only and the owner's path is that cgroup's (cgroup ids are never reused
 * while the host runs), else (cgroup v1 or hybrid hosts) by pid and start
 * time, which a reused pid does not match.
 */
export class ContainerResolver {
  private readonly byCgroup = new Map<number, ContainerInfo>();
  private readonly byProcess = new Map<number, ContainerInfo>();

  constructor(private readonly host: HostView = hostView()) {}

  /** The key of one process: pid and start (kept in 53 bits; see native/ndjson.cc's ContainerKey). */
  static processKey(pid: number, start: number): number {
    return (pid % 2 ** 22) * 2 ** 31 + (start % 2 ** 31);
  }

  lookup(o: Owner): ContainerInfo {
    const cached = this.cached(o);
    if (cached) return cached.info;
    const { info, byCgroup } = this.read(o);
    const [cache, key] = byCgroup
      ? [this.byCgroup, o.cgroup_id]
      : [this.byProcess, ContainerResolver.processKey(o.pid, o.owner_start)];
    if (cache.size >= CONTAINER_CACHE_MAX) cache.clear();
    cache.set(key, info);
    return info;
  }

  /** What is known already, and under which key (the native encoder keeps the same). */
  cached(o: Owner): { info: ContainerInfo; byCgroup: boolean } | undefined {
    const c = o.cgroup_id > 1 ? this.byCgroup.get(o.cgroup_id) : undefined;
    if (c) return { info: c, byCgroup: true };
    const p = this.byProcess.get(ContainerResolver.processKey(o.pid, o.owner_start));
    return p ? { info: p, byCgroup: false } : undefined;
  }

  private read(o: Owner): { info: ContainerInfo; byCgroup: boolean } {
    if (o.pid <= 0) return { info: {}, byCgroup: false };
    let text: string;
    try {
      // Start, cgroups, start again: the cgroups are the owner's only if the
      // pid held the same process throughout.
      if (this.host.start(o.pid) % 2 ** 32 !== o.owner_start) return { info: {}, byCgroup: false };
      text = this.host.cgroup(o.pid);
      if (this.host.start(o.pid) % 2 ** 32 !== o.owner_start) return { info: {}, byCgroup: false };
    } catch {
      return { info: {}, byCgroup: false }; // the owner is gone: it will not come back
    }
    const info = parseProcCgroup(text);
    // On a pure cgroup v2 host the path speaks for its whole cgroup. With v1
    // hierarchies (hybrid hosts), a container may show in v1 only, while its
    // v2 cgroup holds host processes too: then only for this process.
    const { v2, v1 } = paths(text);
    let byCgroup = false;
    try {
      byCgroup = v1.length === 0 && v2 !== undefined && o.cgroup_id > 1 && this.host.cgroupId(v2) === o.cgroup_id;
    } catch {
      // the cgroup is gone, or v2 is not mounted where we look
    }
    return { info, byCgroup };
  }
}
