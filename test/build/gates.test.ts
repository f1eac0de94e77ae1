// The lint and type gates that CI runs (npm run lint, npm run typecheck) fail
// on a planted error: tried on a copy of the tree, never on the tree itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../../src/root.js';

const copy = mkdtempSync(join(tmpdir(), 'nettracer-gates-'));
after(() => rmSync(copy, { recursive: true, force: true }));
for (const d of ['src', 'scripts']) cpSync(join(ROOT, d), join(copy, d), { recursive: true });
for (const f of ['package.json', 'tsconfig.json', 'eslint.config.js', '.prettierrc.json', '.clang-format']) {
  cpSync(join(ROOT, f), join(copy, f));
}
symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
// tsconfig.json includes test/ and bench/: the copy type-checks what it has.
writeFileSync(
  join(copy, 'tsconfig.json'),
  JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { rootDir: '.' }, include: ['src/**/*.ts'] }),
);

const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: copy, encoding: 'utf8' });

describe('lint and type gates', () => {
  it('ESLint refuses `any` and a floating promise', () => {
    const file = join(copy, 'src', 'planted-lint.ts');
    writeFileSync(file, 'export const x: any = 1;\nexport async function f(): Promise<void> {}\nvoid 0;\nf();\n');
    const r = run(bin('eslint'), [file]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /no-explicit-any/);
    assert.match(r.stdout, /no-floating-promises/);
  });

  it('tsc refuses a type error', () => {
    writeFileSync(join(copy, 'src', 'planted-type.ts'), 'export const s: string = 1;\n');
    const r = run(bin('tsc'), ['-p', '.']);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /planted-type\.ts\(1,14\): error TS2322/);
  });

  it('Prettier refuses unformatted code', () => {
    const file = join(copy, 'src', 'planted-format.ts');
    writeFileSync(file, 'export const  y = {a:1};\n');
    const r = run(bin('prettier'), ['--check', file]);
    assert.equal(r.status, 1);
  });

  it(
    'clang-format refuses unformatted C',
    {
      skip:
        spawnSync('clang-format-19', ['--version']).status !== 0 &&
        'clang-format-19 is not installed (npm run setup installs it)',
    },
    () => {
      const file = join(copy, 'planted.c');
      writeFileSync(file, 'int  main( ){return 0;}\n');
      const r = run('clang-format-19', ['--dry-run', '-Werror', file]);
      assert.notEqual(r.status, 0);
    },
  );
});
