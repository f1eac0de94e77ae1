// `nettracer check` on this machine (root, BTF): the verdict, the schema,
// and the failure without privileges.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { effectiveCaps, privilegeItem } from '../../src/check/check.js';
import type { CheckReport } from '../../src/generated/records.js';
import { asNobody, killAll, ROOT, RUN } from '../helpers/processes.js';
import { validatorFor } from '../helpers/schemas.js';

after(killAll);
const validCheck = validatorFor('check');

describe('nettracer check', () => {
  it('as root: ok, exit 0, valid against check.schema.json, names the hooks it would use', async () => {
    const r = await execa(process.execPath, [RUN, 'check', '--json'], { reject: false, cwd: ROOT });
    assert.equal(r.exitCode, 0, String(r.stdout));
    const report = JSON.parse(String(r.stdout)) as CheckReport;
    validCheck(report);
    assert.equal(report.ok, true);
    assert.equal(report.hook_strategy, 'calls', 'this kernel (6.18) has the send and receive tracepoints');
    assert.ok(report.hooks.includes('tp_btf/inet_sock_set_state'));
    assert.ok(report.hooks.includes('iter/task_file'));
    assert.ok(report.items.find((i: { name: string; ok: boolean }) => i.name === 'load')!.ok);
  });

  it('drops as a run would and makes its bpf() calls there: says whom it runs as and what it keeps', async () => {
    const item = async (env: Record<string, string>) => {
      const r = await execa(process.execPath, [RUN, 'check', '--json'], { reject: false, cwd: ROOT, env });
      assert.equal(r.exitCode, 0, String(r.stdout));
      const report = JSON.parse(String(r.stdout)) as CheckReport;
      validCheck(report);
      return report.items.find((i) => i.name === 'after attaching')!;
    };
    const plain = await item({});
    assert.equal(plain.ok, true);
    assert.match(plain.detail, /^runs as nettracer \(uid \d+\), no capabilities$/);
    // A 5.8-5.18 kernel with unprivileged BPF disabled, simulated: bpf() fails without CAP_BPF.
    const old = await item({ NETTRACER_FAILPOINT: 'bpf-needs-cap' });
    assert.equal(old.ok, true);
    assert.match(old.detail, /^runs as nettracer \(uid \d+\), CAP_BPF: bpf\(\) on its own programs and maps fails/);
  });

  it('as root, the table says it can trace', async () => {
    const r = await execa(process.execPath, [RUN, 'check'], { reject: false, cwd: ROOT });
    assert.equal(r.exitCode, 0);
    assert.match(String(r.stdout), /nettracer can trace here/);
    assert.doesNotMatch(String(r.stdout), /\u001b\[/, 'no colour codes when not a terminal');
  });

  it('without privileges: not ok, exit 3, the failing item says how to fix it', async () => {
    const r = await asNobody(['check', '--json']);
    assert.equal(r.exitCode, 3);
    const report = JSON.parse(String(r.stdout)) as CheckReport;
    validCheck(report);
    assert.equal(report.ok, false);
    const priv = report.items.find((i: { name: string }) => i.name === 'privileges')!;
    assert.equal(priv.ok, false);
    assert.match(priv.fix!, /root|CAP_BPF/);
  });
});

describe("the table walk's reads (NETTRACER_WALK_READS)", () => {
  const report = async (env: Record<string, string>) => {
    const r = await execa(process.execPath, [RUN, 'check', '--json'], { reject: false, cwd: ROOT, env });
    return { exitCode: r.exitCode, report: JSON.parse(String(r.stdout)) as CheckReport };
  };
  const item = (rep: CheckReport, name: string) => rep.items.find((i) => i.name === name);

  it('check says which: direct loads on this kernel (6.18 has bpf_rdonly_cast), probe reads when asked', async () => {
    const auto = await report({});
    assert.equal(auto.exitCode, 0);
    validCheck(auto.report);
    assert.match(item(auto.report, 'walk reads')!.detail, /^direct loads \(bpf_rdonly_cast/);
    assert.match(item(auto.report, 'bpf_loop (a program run on demand)')!.detail, /walk_direct in its place/);
    assert.equal(item(auto.report, 'bpf_rdonly_cast (direct reads)')!.ok, true);

    const probe = await report({ NETTRACER_WALK_READS: 'probe' });
    assert.equal(probe.exitCode, 0);
    assert.match(item(probe.report, 'walk reads')!.detail, /^probe reads/);
    assert.equal(item(probe.report, 'bpf_loop (a program run on demand)')!.detail, 'available: raw_tp');
    assert.match(item(probe.report, 'bpf_rdonly_cast (direct reads)')!.detail, /unused: NETTRACER_WALK_READS=probe/);
  });

  it('trace refuses a value it does not know: one line saying what to set, exit 2', async () => {
    const r = await execa(process.execPath, [RUN, 'trace'], {
      reject: false,
      cwd: ROOT,
      env: { NETTRACER_WALK_READS: 'fastest' },
    });
    assert.equal(r.exitCode, 2);
    assert.equal(String(r.stderr).trim().split('\n').length, 1);
    assert.match(String(r.stderr), /^nettracer: NETTRACER_WALK_READS must be auto, direct or probe/);
  });
});

describe('privilege arithmetic', () => {
  it('CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN, is enough; either alone is not', () => {
    const bit = (n: number) => 1n << BigInt(n);
    assert.equal(privilegeItem(1000, bit(39) | bit(38)).ok, true);
    assert.equal(privilegeItem(1000, bit(21)).ok, true);
    assert.equal(privilegeItem(1000, bit(39)).ok, false);
    assert.equal(privilegeItem(1000, bit(38)).ok, false);
    assert.equal(privilegeItem(0, 0n).ok, false, 'root without capabilities cannot');
  });

  it('reads CapEff from /proc/PID/status', () => {
    assert.equal(effectiveCaps('Name:\tx\nCapEff:\t000001ffffffffff\n'), 0x1ffffffffffn);
    assert.equal(effectiveCaps('CapEff:\t0000000000000000\n'), 0n);
  });
});

describe('nettracer schema', () => {
  it('prints every published schema, or one, exactly as in schemas/v1', async () => {
    const all = JSON.parse(String((await execa(process.execPath, [RUN, 'schema'], { cwd: ROOT })).stdout)) as object;
    assert.ok(
      ['connect', 'accept', 'existing', 'metrics', 'close', 'lost', 'stats', 'record', 'check', 'summary'].every(
        (k) => k in all,
      ),
    );
    const close = JSON.parse(
      String((await execa(process.execPath, [RUN, 'schema', 'close'], { cwd: ROOT })).stdout),
    ) as unknown;
    assert.deepEqual(close, JSON.parse(readFileSync(join(ROOT, 'schemas', 'v1', 'close.schema.json'), 'utf8')));
    const bad = await execa(process.execPath, [RUN, 'schema', 'nope'], { cwd: ROOT, reject: false });
    assert.equal(bad.exitCode, 2);
    assert.match(String(bad.stderr), /^nettracer: no schema "nope"/);
  });
});

describe('a kernel without BTF', () => {
  // NETTRACER_SYSFS_BTF points the probe at a missing file, as on such a kernel.
  const env = { NETTRACER_SYSFS_BTF: '/nonexistent/vmlinux' };
  it('trace: a plain message naming what is missing and pointing to check, exit 4', async () => {
    const r = await execa(process.execPath, [RUN, 'trace'], { reject: false, cwd: ROOT, env });
    assert.equal(r.exitCode, 4);
    assert.equal(String(r.stderr).trim().split('\n').length, 1);
    assert.match(
      String(r.stderr),
      /^nettracer: this kernel exposes no BTF \(\/nonexistent\/vmlinux is missing: the kernel was built without CONFIG_DEBUG_INFO_BTF\).*nettracer check/,
    );
  });

  it('check: not ok, the btf item fails with its fix, exit 4', async () => {
    const r = await execa(process.execPath, [RUN, 'check', '--json'], { reject: false, cwd: ROOT, env });
    assert.equal(r.exitCode, 4);
    const report = JSON.parse(String(r.stdout)) as CheckReport;
    validCheck(report);
    const btf = report.items.find((i: { name: string }) => i.name === 'btf')!;
    assert.equal(btf.ok, false);
    assert.match(btf.fix!, /CONFIG_DEBUG_INFO_BTF/);
    assert.match(btf.fix!, /BTFHub\) cannot stand in/, 'says why an external BTF file would not help');
    assert.equal(report.hook_strategy, null);
  });
});
