// The layers of src/ import in one direction only (docs/ARCHITECTURE.md):
// definitions, then the tracer, the encoders, the outputs, the trace run,
// the CLI. A file may import from its own layer or the ones before it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../src/root.js';

const SRC = join(ROOT, 'src');

/** The layer of each top-level entry of src/, lowest first. */
const LAYERS: Record<string, number> = {
  'root.ts': 0,
  generated: 0,
  record: 0,
  tracer: 1,
  encode: 2,
  output: 3,
  summary: 3,
  input: 3,
  check: 3,
  run: 4,
  agent: 4,
  cli: 5,
  commands: 6,
  'main.ts': 7,
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const layerOf = (file: string): number => {
  const top = relative(SRC, file).split('/')[0];
  const layer = LAYERS[top];
  assert.ok(layer !== undefined, `src/${top} has no layer in this test: give it one`);
  return layer;
};

describe('layers of src/', () => {
  it('every import goes to the same layer or one before it', () => {
    const wrong: string[] = [];
    for (const file of files(SRC)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm)) {
        const target = resolve(dirname(file), m[1]).replace(/\.js$/, '.ts');
        if (layerOf(target) > layerOf(file)) wrong.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
