// npm run test:asan: the addon and the config reader built with
// AddressSanitizer and UndefinedBehaviorSanitizer (scripts/sanitizers.ts),
// and the tests that run native code run through them. All of it in
// build-asan/, so the normal build (build/Release) stays as it is: a copy
// of the tree there (build-asan/tree, whose build/Release is the sanitized
// one: the CLI finds its addon beside itself, no switch needed) and a Node
// that loads the ASan runtime (build-asan/node). Fails when a test fails
// or when any process of the run wrote a sanitizer report.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANITIZE_CFLAGS, SANITIZE_LDFLAGS, SANITIZER_OUTPUT, sanitizedNode, sanitizerEnv } from './sanitizers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build-asan');
const tree = join(out, 'tree');
const node = join(out, 'node');
const reports = join(out, 'reports');

/** What the build and the tests need of the tree; bpf/ with .output/ (the skeleton, the object -p loads). */
const COPY = ['package.json', 'binding.gyp', 'tsconfig.json', 'oclif.manifest.json'];
const COPY_DIRS = ['bin', 'dist', 'src', 'test', 'bench', 'native', 'bpf', 'schemas', 'deploy'];
/**
 * npm test's files but those that check the tree's tooling and never run
 * its native code: lint on a copy, generated files, the man page, start-up,
 * and this build's own wiring (sanitizers.test.ts, on a planted bug); and
 * the packaging of the checkout (run-command.test.ts: npm installs it and
 * its install script would build this copy's addon anew, unsanitized) and
 * of the image (agent-image.test.ts: the image builds its own addon).
 */
const SKIP = new Set([
  'test/e2e/run-command.test.ts',
  'test/e2e/agent-image.test.ts',
  'test/build/gates.test.ts',
  'test/build/generated.test.ts',
  'test/build/man.test.ts',
  'test/build/startup.test.ts',
  'test/build/sanitizers.test.ts',
]);

function fail(message: string): never {
  process.stderr.write(`test:asan: ${message}\n`);
  process.exit(1);
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(0)} s`;

for (const f of ['dist/nettracer.cjs', 'bpf/.output/nettracer.skel.h']) {
  if (!existsSync(join(root, f))) fail(`${f} is missing: run npm run setup (or npm run build) first`);
}
if (spawnSync('patchelf', ['--version']).status !== 0) fail('patchelf is missing: run npm run setup');
// npm run test:asan -- test/e2e/trace.test.ts: those files only, run from
// the copy (the tree's own would load the tree's addon).
const asked = process.argv.slice(2).map((f) => relative(root, resolve(f)));
for (const f of asked) {
  if (!/^test\/\w+\/[^/]+\.test\.ts$/.test(f) || !existsSync(join(root, f))) fail(`${f}: not a test file of the tree`);
}

// The copy.
const started = Date.now();
rmSync(tree, { recursive: true, force: true });
mkdirSync(tree, { recursive: true });
for (const f of [...COPY, ...COPY_DIRS]) {
  if (!existsSync(join(root, f))) continue;
  cpSync(join(root, f), join(tree, f), { recursive: true, filter: (p) => !p.includes('/bench/.build') });
}
symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));

// The sanitized addon and config reader: node-gyp's Makefile adds CFLAGS,
// CXXFLAGS and LDFLAGS from the environment after binding.gyp's own.
console.log(`test:asan: building the addon and the config reader with ${SANITIZE_CFLAGS.join(' ')}`);
const build = spawnSync('npm', ['run', 'build:native'], {
  cwd: tree,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
  env: {
    ...process.env,
    CFLAGS: SANITIZE_CFLAGS.join(' '),
    CXXFLAGS: SANITIZE_CFLAGS.join(' '),
    LDFLAGS: SANITIZE_LDFLAGS.join(' '),
  },
});
if (build.status !== 0) fail(`the sanitized build failed:\n${build.stdout}${build.stderr}`);
for (const f of ['nettracer.node', 'nettracer-config-reader']) {
  const needed = execFileSync('readelf', ['-d', join(tree, 'build', 'Release', f)], { encoding: 'utf8' });
  if (!/NEEDED.*\[libasan\.so/.test(needed)) fail(`build-asan/tree/build/Release/${f} is not linked with ASan`);
}
sanitizedNode(node);
console.log(`test:asan: built in ${seconds(started)}`);

// Reports: a directory every user can write to, for the run only.
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports);
chmodSync(reports, 0o1733);

const files =
  asked.length > 0
    ? asked
    : ['unit', 'build', 'e2e'].flatMap((d) =>
        readdirSync(join(tree, 'test', d))
          .filter((f) => f.endsWith('.test.ts'))
          .sort()
          .map((f) => `test/${d}/${f}`)
          .filter((f) => !SKIP.has(f)),
      );
const testing = Date.now();
const runner = spawn(node, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: tree,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, ...sanitizerEnv(reports) },
});
// Every finding leaves a file in reports/ (sanitizers.ts); what findings
// print on stderr is looked for in this output too, should one not.
let output = '';
runner.stdout.on('data', (d: Buffer) => {
  output += d.toString();
  process.stdout.write(d);
});
runner.stderr.on('data', (d: Buffer) => {
  output += d.toString();
  process.stderr.write(d);
});
const [code, signal] = (await once(runner, 'close')) as [number | null, string | null];
chmodSync(reports, 0o755);
const found = readdirSync(reports).sort();
for (const f of found) {
  process.stderr.write(`\n===== ${relative(root, join(reports, f))} =====\n${readFileSync(join(reports, f), 'utf8')}`);
}
const inOutput = [...new Set(output.match(SANITIZER_OUTPUT))];
console.log(`test:asan: tests ran in ${seconds(testing)}; ${seconds(started)} in all`);
if (found.length > 0) fail(`${found.length} sanitizer report(s), above (kept in ${relative(root, reports)}/)`);
if (inOutput.length > 0) fail(`sanitizer reports in the tests' output, above: ${inOutput.join('; ')}`);
if (code !== 0) fail(`the tests failed (${signal ?? `exit ${code}`})`);
rmSync(reports, { recursive: true, force: true });
console.log('test:asan: no sanitizer report');
