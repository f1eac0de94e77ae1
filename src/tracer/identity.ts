// Who the tracer becomes once attached: an identity no unrelated process
// shares, so no other process can signal, renice or limit it. --user NAME
// or UID; else the system user nettracer (the set-up creates it); else an
// id that no account and no running process has.
import { readdirSync, readFileSync } from 'node:fs';
import { TracerError } from './errors.js';

export interface Identity {
  uid: number;
  gid: number;
  /** How the run describes it. */
  name: string;
}

/** The range systemd leaves for dynamic users: no account is expected in it. */
const FREE_FROM = 61184;
const FREE_TO = 65519;

interface Account {
  name: string;
  uid: number;
  gid: number;
}

function accounts(passwd: string): Account[] {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    const [name, , uid, gid] = line.split(':');
    return name && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')
      ? [{ name, uid: Number(uid), gid: Number(gid) }]
      : [];
  });
}

/** Every uid a running process has (real, effective, saved or filesystem). */
function runningUids(): Set<number> {
  const out = new Set<number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      for (const u of m?.slice(1) ?? []) out.add(Number(u));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Where the accounts and the ids in use come from (the tests give their own). */
export interface IdentitySources {
  passwd: string;
  running: () => Set<number>;
}

export function dropIdentity(
  user: string | undefined,
  from: IdentitySources = { passwd: '/etc/passwd', running: runningUids },
): Identity {
  const all = accounts(from.passwd);
  if (user !== undefined) {
    const a = /^\d+$/.test(user) ? all.find((x) => x.uid === Number(user)) : all.find((x) => x.name === user);
    if (a?.uid === 0 || user === '0')
      throw new TracerError(`--user ${user}: that is root; --keep-privileges stays root`, 'usage');
    if (a) return { uid: a.uid, gid: a.gid, name: `${a.name} (uid ${a.uid})` };
    if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user), name: `uid ${user}` };
    throw new TracerError(`--user ${user}: no such user`, 'usage');
  }
  const own = all.find((x) => x.name === 'nettracer');
  if (own) return { uid: own.uid, gid: own.gid, name: `nettracer (uid ${own.uid})` };
  const taken = new Set([...all.map((a) => a.uid), ...from.running()]);
  for (let uid = FREE_TO; uid >= FREE_FROM; uid--) {
    if (!taken.has(uid))
      return { uid, gid: uid, name: `uid ${uid} (no nettracer user: an id no account or process has)` };
  }
  throw new TracerError('no free user id to run as: create the nettracer user (npm run setup does)', 'failure');
}

/** Whom a run started now becomes: root drops to dropIdentity(user); anyone else keeps their ids. */
export function runIdentity(user: string | undefined): Identity {
  const uid = process.geteuid?.() ?? 0;
  return uid === 0 ? dropIdentity(user) : { uid, gid: process.getegid?.() ?? 0, name: `uid ${uid}` };
}
