'use strict';
// Loads the bundled CLI (dist/nettracer.cjs, see src/main.ts) with the V8 code
// cache the build wrote next to it: start-up then skips most parsing and
// compiling. V8 rejects a cache made for other source or by another Node
// build, and the file then compiles as usual. Used by bin/run.cjs and by the
// start-up test, so the test checks the loader that runs.
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { dirname } = require('node:path');
const vm = require('node:vm');

/** Returns the bundle's exports and its vm.Script (cachedDataRejected, createCachedData). */
function loadBundle(file) {
  const source = readFileSync(file, 'utf8');
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
  Module._cache[file] = mod;
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, script };
}

module.exports = { loadBundle };
