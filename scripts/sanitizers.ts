// The sanitizer build (npm run test:asan, scripts/asan.ts): its compiler
// flags and the environment its processes run in, defined once for the
// script and for test/build/sanitizers.test.ts, which proves on a planted
// bug that they make a finding fail the run.
import { execFileSync } from 'node:child_process';
import { copyFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';

/** AddressSanitizer and UndefinedBehaviorSanitizer; the first finding stops the process. */
export const SANITIZE_CFLAGS = [
  '-fsanitize=address,undefined',
  '-fno-sanitize-recover=undefined',
  '-fno-omit-frame-pointer',
  // libstdc++'s own bounds checks (operator[] of vector and string, front()
  // of an empty one): overruns inside a container's capacity, which ASan
  // cannot see.
  '-D_GLIBCXX_ASSERTIONS',
  '-g',
  '-O1',
];
export const SANITIZE_LDFLAGS = ['-fsanitize=address,undefined'];

/**
 * The ASan runtime g++ links with (libgcc-N-dev's libasan.so, a link to
 * Debian's libasan8), as a path.
 */
export function asanRuntime(): string {
  const named = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  if (!named.startsWith('/')) throw new Error('g++ has no libasan.so: install g++ (npm run setup)');
  return realpathSync(named);
}

/**
 * UBSan reads its options from /proc/self/environ when it first reports,
 * which a tracer that has dropped root (and is not dumpable) may not open:
 * without them it exits 1, with no stack, no abort and no report file.
 * libubsan asks this function first; libc's getenv() needs no /proc.
 */
const UBSAN_OPTIONS_SOURCE = `#include <stdlib.h>
const char *__ubsan_default_options(void)
{
	const char *o = getenv("UBSAN_OPTIONS");
	return o ? o : "";
}
`;

/**
 * Writes a copy of this Node at `dest` that loads the ASan runtime before
 * anything else, as a sanitized program must (the runtime replaces malloc),
 * and UBSAN_OPTIONS_SOURCE (built as `dest`-ubsan-options.so). Not
 * LD_PRELOAD: the environment would carry it into every program the tests
 * start, and procps' pgrep and ps hang at start under GCC 12's libasan.
 * Children started as process.execPath are this copy.
 */
export function sanitizedNode(dest: string): void {
  const options = `${dest}-ubsan-options.so`;
  writeFileSync(`${options}.c`, UBSAN_OPTIONS_SOURCE);
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', `${options}.c`, '-o', options]);
  rmSync(`${options}.c`);
  copyFileSync(process.execPath, dest);
  // Each one goes first: the runtime last.
  for (const lib of [options, asanRuntime()]) {
    execFileSync('patchelf', ['--add-needed', lib, dest], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

/**
 * The sanitizers' options for every process of the run (programs without
 * them ignore these). Every finding leaves a file in `reports`, a directory
 * every user can write to: the tracer reports after it has become the user
 * nettracer, some tests run it as nobody, and its config reader's stderr
 * goes nowhere. ASan's reports are asan.<pid>. GCC's UBSan, beside ASan,
 * writes its text to stderr whatever log_path says, then aborts; ASan
 * reports the abort (handle_abort), with the stack down to the line, in
 * ubsan.<pid> (libubsan sets the report path through libasan's). So does a
 * failed libstdc++ assertion, in asan.<pid>.
 */
export function sanitizerEnv(reports: string): Record<string, string> {
  return {
    ASAN_OPTIONS: [
      // V8 and Node keep memory until exit by design: leaks would drown the rest.
      'detect_leaks=0',
      // SIGABRT, not exit code 1, which the CLI has its own meanings for.
      'abort_on_error=1',
      'handle_abort=1',
      'detect_stack_use_after_return=1',
      'check_initialization_order=1',
      `log_path=${reports}/asan`,
    ].join(':'),
    UBSAN_OPTIONS: ['halt_on_error=1', 'abort_on_error=1', 'print_stacktrace=1', `log_path=${reports}/ubsan`].join(':'),
  };
}

/**
 * What a finding prints on standard error: UBSan's text, libstdc++'s
 * failed assertions, ASan's first line should a report miss its file.
 */
export const SANITIZER_OUTPUT = /runtime error: [^\n]*|ERROR: AddressSanitizer[^\n]*|Assertion '[^\n]*' failed/g;
