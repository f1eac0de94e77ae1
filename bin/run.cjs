#!/usr/bin/env node
'use strict';
// nettracer's entry point. The whole CLI is one bundled file (dist/nettracer.cjs,
// see src/main.ts), compiled here with the V8 code cache that the build wrote
// next to it: start-up then skips most parsing and compiling. V8 rejects a
// cache made by another Node build, and the file then compiles as usual.
const Module = require('node:module');
const { readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const file = join(__dirname, '..', 'dist', 'nettracer.cjs');
let source;
try {
  source = readFileSync(file, 'utf8');
} catch {
  process.stderr.write(`nettracer: ${file} is missing; build it with "npm run setup" (or "npm run build")\n`);
  process.exit(1);
}
let cachedData;
try {
  cachedData = readFileSync(`${file}.cache`);
} catch {
  // No cache (a build without one): compile from source.
}

// A real module in require's cache, so that oclif loading the command list
// from this same file (package.json: oclif.commands) gets this instance.
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(dirname(file));
Module._cache[file] = mod;
const script = new vm.Script(Module.wrap(source), {
  filename: file,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
mod.loaded = true;

// scripts/bundle.mjs runs `--help` once with this set: the cache then holds
// every function that start-up and help compiled.
if (process.env.NETTRACER_WRITE_CODE_CACHE) {
  process.on('exit', () => writeFileSync(`${file}.cache`, script.createCachedData()));
}

mod.exports.execute({ dir: __filename });
