// Whom the tracer becomes once attached (src/run/identity.ts), from a
// passwd file and a set of ids in use that the test chooses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dropIdentity } from '../../src/tracer/identity.js';

const dir = mkdtempSync(join(tmpdir(), 'nettracer-identity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function passwd(lines: string[]): string {
  const path = join(dir, `passwd-${lines.length}-${Math.random()}`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const BASE = ['root:x:0:0:root:/root:/bin/bash', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'];
const none = () => new Set<number>();

describe('the identity after attaching', () => {
  it('is the nettracer account when there is one', () => {
    const from = { passwd: passwd([...BASE, 'nettracer:x:999:995::/nonexistent:/usr/sbin/nologin']), running: none };
    assert.deepEqual(dropIdentity(undefined, from), { uid: 999, gid: 995, name: 'nettracer (uid 999)' });
  });

  it('else the highest id in 61184-65519 that no account and no process has', () => {
    const from = {
      passwd: passwd([...BASE, 'dyn:x:65519:65519::/:/bin/false']),
      running: () => new Set([65518, 65517]),
    };
    const id = dropIdentity(undefined, from);
    assert.equal(id.uid, 65516);
    assert.equal(id.gid, 65516);
    assert.match(id.name, /^uid 65516 \(no nettracer user/);
  });

  it('when every id of the range is taken, it says to create the nettracer user', () => {
    const all = new Set<number>();
    for (let u = 61184; u <= 65519; u++) all.add(u);
    const from = { passwd: passwd(BASE), running: () => all };
    assert.throws(() => dropIdentity(undefined, from), /no free user id to run as: create the nettracer user/);
  });

  it('--user by name, by the uid of an account, or by an id no account has', () => {
    const from = { passwd: passwd([...BASE, 'svc:x:1200:1300::/:/bin/false']), running: none };
    assert.deepEqual(dropIdentity('svc', from), { uid: 1200, gid: 1300, name: 'svc (uid 1200)' });
    assert.deepEqual(dropIdentity('1200', from), { uid: 1200, gid: 1300, name: 'svc (uid 1200)' });
    assert.deepEqual(dropIdentity('4242', from), { uid: 4242, gid: 4242, name: 'uid 4242' });
    assert.throws(() => dropIdentity('ghost', from), /--user ghost: no such user/);
    assert.throws(() => dropIdentity('root', from), /--user root: that is root; --keep-privileges stays root/);
    assert.throws(() => dropIdentity('0', from), /--user 0: that is root/);
  });

  it('a missing or garbled passwd file only means no accounts', () => {
    const garbled = passwd(['::::', 'x', 'nettracer:x:abc:def::/:/bin/false']);
    assert.equal(dropIdentity(undefined, { passwd: garbled, running: none }).uid, 65519);
    assert.equal(dropIdentity(undefined, { passwd: join(dir, 'absent'), running: none }).uid, 65519);
  });
});
