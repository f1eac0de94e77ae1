#!/usr/bin/env node
'use strict';
// nettracer's entry point: the whole CLI is one bundled file, loaded with the
// build's V8 code cache (bin/bundle-loader.cjs).
const { existsSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { loadBundle } = require('./bundle-loader.cjs');

const file = join(__dirname, '..', 'dist', 'nettracer.cjs');
if (!existsSync(file)) {
  process.stderr.write(`nettracer: ${file} is missing; build it with "npm run setup" (or "npm run build")\n`);
  process.exit(1);
}
const { exports: cli, script } = loadBundle(file);

// scripts/bundle.ts runs `--help` once with this set: the cache then holds
// every function that start-up and help compiled.
if (process.env.NETTRACER_WRITE_CODE_CACHE) {
  process.on('exit', () => writeFileSync(`${file}.cache`, script.createCachedData()));
}

cli.execute({ dir: __filename });
