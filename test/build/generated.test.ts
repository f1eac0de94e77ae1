// Every generated file is what its one source makes (scripts/generate.ts
// --check, which the build also runs), and the check fails when a source
// changes without its generated files: tried on a copy of the tree.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../../src/root.js';

const generate = (root: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'generate.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });

describe('generated files', () => {
  it('are up to date with their sources', () => {
    const r = generate(ROOT, '--check');
    assert.equal(r.status, 0, r.stderr);
  });

  describe('the drift check fails', () => {
    const copy = mkdtempSync(join(tmpdir(), 'nettracer-gen-'));
    after(() => rmSync(copy, { recursive: true, force: true }));
    for (const d of ['scripts', 'src', 'bpf', 'schemas', 'native', 'man']) {
      cpSync(join(ROOT, d), join(copy, d), { recursive: true, filter: (p) => !p.includes('/.output') });
    }
    for (const f of ['package.json', 'oclif.manifest.json', 'tsconfig.json']) cpSync(join(ROOT, f), join(copy, f));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    symlinkSync(join(ROOT, 'build'), join(copy, 'build'));
    const edit = (file: string, from: string, to: string) => {
      const path = join(copy, file);
      const text = readFileSync(path, 'utf8');
      assert.ok(text.includes(from), `${file} has ${from}`);
      writeFileSync(path, text.replace(from, to));
    };

    it('when the C header changes the wire layout', () => {
      edit('bpf/nettracer.h', '\t__u32 netns;', '\t__u32 netns;\n\t__u32 packets_lost;');
      const r = generate(copy, '--check', 'wire');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /src\/generated\/wire\.ts/);
      // Regenerated, the copy is consistent again, and its new member is a WireMember.
      assert.equal(generate(copy, 'wire').status, 0);
      assert.match(readFileSync(join(copy, 'src/generated/wire.ts'), 'utf8'), /packets_lost: 96,/);
    });

    it('when the record table changes', () => {
      edit('src/record/fields.ts', "description: 'TCP port number.'", "description: 'A TCP port.'");
      const r = generate(copy, '--check', 'record');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /schemas\/v1\/common\.schema\.json/);
    });

    it('when a hand edit lands in a generated file', () => {
      edit('man/nettracer.1', 'EXIT STATUS', 'EXIT CODES');
      const r = generate(copy, '--check', 'man');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /man\/nettracer\.1/);
    });
  });
});

describe('the published schemas', () => {
  it('are compiled by the build into no other shape: JSON files with a stable $id each', () => {
    const out = execFileSync('ls', [join(ROOT, 'schemas', 'v1')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    for (const f of out) {
      const s = JSON.parse(readFileSync(join(ROOT, 'schemas', 'v1', f), 'utf8')) as { $id: string };
      assert.equal(s.$id, `https://nettracer.dev/schemas/v1/${f}`);
    }
  });
});
