// The README's run command, exactly as written there, typed into a real
// terminal (tmux): it starts without building anything (no file under build/
// or bpf/.output changes), and Ctrl-C ends it with exit status 0. The same for
// npx nettracer from a fresh npm cache, where npm installs the checkout and
// runs its install script: with every compiler and build tool on the PATH
// replaced by one that notes its call, none is called.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { ROOT } from '../helpers/processes.js';
import { killPanes, Pane } from '../helpers/tmux.js';

const tmp = mkdtempSync(join(tmpdir(), 'nt-run-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(killPanes);

/** The command under "**Run**" in README.md: its first indented code line. */
function readmeRunCommand(readme: string): string {
  const m = /^\*\*Run\*\*[^\n]*\n(?:\s*\n)*( {4}\S[^\n]*)/m.exec(readme);
  if (!m) throw new Error('README.md has no "**Run**" paragraph followed by an indented command');
  return m[1].trim();
}

/** Every file under the build outputs, with its modification time. */
function buildFiles(): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(p, statSync(p).mtimeMs);
    }
  };
  for (const d of ['build', join('bpf', '.output'), 'dist']) walk(join(ROOT, d));
  return files;
}

/** Build tools that note their call in `log` and fail. */
function shims(log: string): string {
  const dir = join(tmp, 'shims');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const tool of ['make', 'cc', 'gcc', 'g++', 'c++', 'clang', 'bpftool', 'node-gyp']) {
    const file = join(dir, tool);
    writeFileSync(file, `#!/bin/sh\necho "${tool} $*" >> ${log}\nexit 1\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

/** Runs `command` in a terminal until it draws, then types Ctrl-C; returns its exit status line. */
async function ctrlC(command: string): Promise<string> {
  const pane = new Pane(`cd ${ROOT}; ${command}; echo EXIT=$?; sleep 600`, 160, 30);
  // trace on a terminal prints its event lines' header once it is tracing.
  // Other tests' connections may scroll it off the screen: the pane's history is searched too.
  await pane.waitFor('trace started', (l) => l.some((x) => /^TIME +EVENT +PID/.test(x)), 60_000, true);
  pane.keys('C-c');
  const lines = await pane.waitFor('its exit', (l) => l.some((x) => /EXIT=\d+$/.test(x)), 30_000, true);
  return /EXIT=\d+$/.exec(lines.find((x) => /EXIT=\d+$/.test(x)) ?? '')![0];
}

describe("the README's run command", () => {
  it('starts without a build and exits 0 on Ctrl-C, as written in README.md', async () => {
    let command = readmeRunCommand(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    assert.match(command, /\btrace\b/);
    // sudo is how a user gets root; tests run as root, where a host may have no sudo at all.
    if (command.startsWith('sudo ') && process.getuid?.() === 0 && spawnSync('sudo', ['true']).status !== 0)
      command = command.slice('sudo '.length);
    const before = buildFiles();
    assert.equal(await ctrlC(command), 'EXIT=0');
    assert.deepEqual(buildFiles(), before);
  });

  it('npx nettracer from a fresh npm cache: npm installs the checkout, nothing is built, Ctrl-C exits 0', async () => {
    const log = join(tmp, 'spawned');
    const dir = shims(log);
    const cache = join(tmp, 'npm-cache');
    const before = buildFiles();
    const status = await ctrlC(`PATH=${dir}:$PATH npm_config_cache=${cache} npx --yes nettracer trace`);
    assert.equal(status, 'EXIT=0');
    assert.ok(
      readdirSync(join(cache, '_npx')).some((d) => existsSync(join(cache, '_npx', d, 'node_modules', 'nettracer'))),
      'npx installed the checkout (and so ran its install script)',
    );
    assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', '', 'build tools called');
    assert.deepEqual(buildFiles(), before);
  });

  it('the install script builds nothing in a built checkout, and says what is out of date', () => {
    const log = join(tmp, 'spawned-install');
    const env = { ...process.env, PATH: `${shims(log)}:${process.env.PATH}` };
    const before = buildFiles();
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'native-build.cjs')], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'native-build: the BPF object and the addon are up to date\n');
    assert.ok(!existsSync(log), 'build tools called');
    assert.deepEqual(buildFiles(), before);
    // A source newer than the addon is seen (--check builds nothing).
    const src = join(ROOT, 'native', 'probe.cc');
    const { atime, mtime } = statSync(src);
    try {
      utimesSync(src, atime, new Date(Date.now() + 60_000));
      const c = spawnSync(process.execPath, [join(ROOT, 'scripts', 'native-build.cjs'), '--check'], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
      assert.equal(c.status, 1);
      assert.equal(c.stdout, 'native-build: out of date: native/probe.cc changed\n');
    } finally {
      utimesSync(src, atime, mtime);
    }
  });
});
