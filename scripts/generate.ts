#!/usr/bin/env -S node --import tsx
// Writes every generated file from its one source, or with --check exits 1
// naming each file that differs (the build and a test run the check):
//   wire    bpf/nettracer.h      -> src/generated/wire.ts
//   record  src/record/fields.ts -> schemas/v1/*.json, src/generated/records.ts,
//                                   native/generated/record_fields.h
//   man     the CLI (oclif.manifest.json), the record table, the hook table
//           (the built addon) and src/tracer/kernel-support.ts -> man/nettracer.1
//   readme  the hook table and src/tracer/kernel-support.ts -> the kernels
//           table of README.md (between its markers)
// Usage: generate.ts [--check] [wire|record|man ...]   (default: all)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Generated, ROOT } from './gen/common.js';
import { generateMan } from './gen/man.js';
import { generateReadme } from './gen/support.js';
import { generateRecord } from './gen/record.js';
import { generateWire } from './gen/wire.js';

const GENERATORS: Record<string, () => Generated[]> = {
  wire: generateWire,
  record: generateRecord,
  man: generateMan,
  readme: generateReadme,
};

const args = process.argv.slice(2);
const check = args.includes('--check');
const names = args.filter((a) => a !== '--check');
for (const n of names) {
  if (!GENERATORS[n]) {
    console.error(`generate: no generator "${n}" (${Object.keys(GENERATORS).join(', ')})`);
    process.exit(2);
  }
}

const stale: string[] = [];
for (const name of names.length ? names : Object.keys(GENERATORS)) {
  for (const { path, text } of GENERATORS[name]()) {
    const file = join(ROOT, path);
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    if (check) {
      stale.push(path);
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      console.log(`generate: wrote ${path}`);
    }
  }
}
if (stale.length) {
  console.error(`generate: out of date with their sources: ${stale.join(', ')}; run npm run generate`);
  process.exit(1);
}
