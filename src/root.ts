// The package's root directory. This module sits one level below the root both
// as a source file (src/root.ts, under tsx) and inside the bundle
// (dist/nettracer.cjs), so one relative step is right in both.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
