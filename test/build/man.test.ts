// The man page renders cleanly and documents every flag --help shows.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, RUN } from '../helpers/processes.js';

const PAGE = join(ROOT, 'man', 'nettracer.1');

describe('man page', () => {
  it('is what the CLI definitions and schemas generate (no drift)', () => {
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'generate.ts'), '--check', 'man'], {
      stdio: 'pipe',
      cwd: ROOT,
    });
  });

  it('renders with man --warnings and no warnings', () => {
    const r = spawnSync('man', ['--warnings', '-l', PAGE], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /EXIT STATUS/);
  });

  it('documents every flag that --help lists, and every record field', () => {
    const text = spawnSync('man', ['-l', PAGE], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '200' },
    }).stdout.replace(/‐\s*/g, '');
    const help = execFileSync(process.execPath, [RUN, 'trace', '--help'], { encoding: 'utf8' });
    const flags = new Set(help.match(/--[a-z][a-z-]+/g));
    assert.ok(flags.size >= 10, [...flags].join(' '));
    for (const f of flags) assert.ok(text.includes(f), `${f} is missing from the man page`);
    for (const field of ['bytes_sent', 'packets_retransmitted', 'rtt_var_us', 'duration_ms', 'records_lost']) {
      assert.ok(text.includes(field), field);
    }
  });
});
