// What the bench started or changed, to be undone when it ends (run.ts calls
// cleanupAll() on exit, error and Ctrl-C): live children and tracers are
// killed, then the undo steps run, last registered first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killLaunched } from '../../test/helpers/launch.js';

/** A child process (exec.ts's spawnTracked()). */
export interface Killable {
  readonly pid?: number | undefined;
  kill(signal?: NodeJS.Signals): boolean;
}

const children = new Set<Killable>();
const steps: { label: string; fn: () => void }[] = [];

/** Kills c at the end unless the returned function (call it once c has exited) says it is gone. */
export function track(c: Killable): () => void {
  children.add(c);
  return () => children.delete(c);
}

/** The pids of the children still running. */
export function childPids(): number[] {
  return [...children].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}

/** Registers a synchronous undo step; returns a function that runs it now (once). */
export function onCleanup(label: string, fn: () => void): () => void {
  const step = { label, fn };
  steps.push(step);
  return () => {
    const i = steps.indexOf(step);
    if (i < 0) return;
    steps.splice(i, 1);
    fn();
  };
}

export function cleanupAll(): void {
  killLaunched(); // tracers, also those not yet ready
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  for (let step = steps.pop(); step; step = steps.pop()) {
    try {
      step.fn();
    } catch (err) {
      console.error(`bench: clean-up "${step.label}" failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

let tmpRoot: string | undefined;
/** A path in this run's temporary directory (removed at the end). */
export function tmpFile(name: string): string {
  if (!tmpRoot) {
    const dir = mkdtempSync(join(tmpdir(), 'nettracer-bench-'));
    tmpRoot = dir;
    onCleanup('remove temp dir', () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(tmpRoot, name);
}
