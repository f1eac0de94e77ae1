#!/usr/bin/env node
'use strict';
// The package's install script (package.json: "install"): builds the BPF
// object (make -C bpf) and the addon (node-gyp) only when they are missing or
// older than their sources. npm runs this script whenever it installs the
// checkout: npm ci, and also npm link, npm install -g . and npx nettracer
// when it installs from the checkout. Before, each of those rebuilt the tool
// (node-gyp rebuild: it deletes build/ first, about 10 s here, and a Ctrl-C
// during it left no addon at all). Plain Node, no dependencies: it runs
// before node_modules is complete.
//   npm run install                         build what is out of date (npm gives
//                                           node-gyp its settings: nodedir...)
//   node scripts/native-build.cjs --check   exit 1 if something is, build nothing
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = join(__dirname, '..');

/** The files each output is built from. */
function files(dir, pattern) {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir))
    .filter((f) => pattern.test(f))
    .map((f) => join(dir, f));
}

// Each output with what it is built from (binding.gyp's targets).
const BPF = [{ output: 'bpf/.output/nettracer.skel.h', inputs: ['bpf/Makefile', ...files('bpf', /\.(c|h)$/)] }];
const ADDON = [
  {
    output: 'build/Release/nettracer.node',
    inputs: [
      'binding.gyp',
      'bpf/.output/nettracer.skel.h',
      ...files('bpf', /\.h$/),
      ...files('native', /\.(cc|h)$/).filter((f) => !f.endsWith('config_reader.cc')),
      ...files('native/generated', /\.h$/),
    ],
  },
  {
    output: 'build/Release/nettracer-config-reader',
    inputs: ['binding.gyp', 'native/config_reader.cc', 'native/safe_open.cc', 'native/safe_open.h'],
  },
];

const mtime = (f) => statSync(join(ROOT, f)).mtimeMs;

/** Why `step` (its outputs) must be built, or undefined when each output is newer than its inputs. */
function outOfDate(step) {
  for (const { output, inputs } of step) {
    // A packed package ships the built addon without its sources: nothing to build.
    if (!inputs.some((f) => existsSync(join(ROOT, f)))) continue;
    if (!existsSync(join(ROOT, output))) return `${output} is missing`;
    const built = mtime(output);
    const newer = inputs.find((f) => existsSync(join(ROOT, f)) && mtime(f) > built);
    if (newer) return `${newer} changed`;
  }
  return undefined;
}

function run(cmd, args) {
  console.log(`native-build: ${cmd} ${args.join(' ')}`);
  const [file, argv] = cmd === 'node-gyp' ? nodeGyp(args) : [cmd, args];
  const r = spawnSync(file, argv, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) {
    console.error(`native-build: cannot run ${cmd}: ${r.error.message} (npm run setup installs what the build needs)`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** The project's node-gyp (a devDependency, as before), else npm's own under npm, else any on the PATH. */
function nodeGyp(args) {
  const local = join(ROOT, 'node_modules', '.bin', 'node-gyp');
  if (existsSync(local)) return [local, args];
  const npms = process.env.npm_config_node_gyp;
  if (npms && existsSync(npms)) return [process.execPath, [npms, ...args]];
  return ['node-gyp', args];
}

function main() {
  const check = process.argv.includes('--check');
  const bpf = outOfDate(BPF);
  const addon = bpf ? 'the BPF object is rebuilt' : outOfDate(ADDON);
  if (!bpf && !addon) {
    console.log('native-build: the BPF object and the addon are up to date');
    return;
  }
  if (check) {
    console.log(`native-build: out of date: ${bpf ?? addon}`);
    process.exit(1);
  }
  if (bpf) {
    console.log(`native-build: BPF object: ${bpf}`);
    run('make', ['-C', 'bpf']);
  }
  console.log(`native-build: addon: ${addon}`);
  // An incremental build where node-gyp has configured the tree: build/ is
  // never deleted, so an interrupted build leaves the previous addon in place.
  if (!existsSync(join(ROOT, 'build', 'Makefile'))) run('node-gyp', ['configure']);
  run('node-gyp', ['build']);
}

main();
