#!/usr/bin/env node
'use strict';
// nettracer-compat: the original NetTracer's command line, unchanged
// (src/commands/compat.ts). Its arguments go behind "--", so that none of
// them (-h, -v) is taken for oclif's own.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { loadBundle } = require('./bundle-loader.cjs');

const file = join(__dirname, '..', 'dist', 'nettracer.cjs');
if (!existsSync(file)) {
  process.stderr.write(`nettracer-compat: ${file} is missing; build it with "npm run setup" (or "npm run build")\n`);
  process.exit(1);
}
const { exports: cli } = loadBundle(file);
cli.execute({ dir: join(__dirname, 'run.cjs'), args: ['compat', '--', ...process.argv.slice(2)] });
