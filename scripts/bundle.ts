// Builds dist/: src/main.ts and everything it imports (@oclif/core included)
// as one CommonJS file, oclif's manifest, and V8's code cache for the bundle
// (bin/run.cjs). CommonJS because V8's code cache API (vm.Script) compiles
// scripts, not ES modules. Start-up figures: bench/README.md (startup).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'nettracer.cjs');

rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Whitespace and syntax only: identifiers keep their names, which error
  // handling reads (constructor.name) and stack traces show.
  minifyWhitespace: true,
  minifySyntax: true,
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  // oclif loads these only to run a CLI from TypeScript sources (development).
  external: ['typescript', 'ts-node'],
  // import() in a script compiled by vm.Script (bin/run.cjs) throws "A dynamic
  // import callback was not specified": the OTLP exporter imports http that
  // way. As require(), it works, and modules load only when first used all the same.
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
});

const run = (args: string[], env: Record<string, string> = {}): Buffer =>
  execFileSync(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
run([join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest']);
run([join(root, 'bin', 'run.cjs'), '--help'], { NETTRACER_WRITE_CODE_CACHE: '1' });
