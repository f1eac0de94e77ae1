// A capture read line by line (a file, or standard input): each line parsed
// and checked against its record's schema, with its line number. Shared by
// summarize and validate, so both refuse the same lines with the same words.
import { createReadStream } from 'node:fs';
import { printable } from '../record/shown.js';
import type { RecordCheck } from '../record/validate.js';
import { TracerError } from '../tracer/errors.js';
import { type Line, readLines } from './lines.js';

export interface Input {
  /** The file as given, or undefined for standard input. */
  file?: string;
  stream: AsyncIterable<Buffer | string>;
}

/** FILE, or standard input for none or "-". Nothing is read until readRecords(). */
export function openInput(file: string | undefined): Input {
  if (!file || file === '-') return { stream: process.stdin };
  return { file, stream: createReadStream(file) };
}

/**
 * Refuses to wait on a terminal for a capture nobody is typing: with no FILE
 * and standard input a terminal, says what `command` reads (usage, exit 2).
 * "-" reads the terminal, for who means it.
 */
export function requireInput(file: string | undefined, command: string): void {
  if (file === undefined && process.stdin.isTTY === true) {
    throw new TracerError(
      `${command} reads a capture of nettracer trace (NDJSON): give a FILE, pipe one in (nettracer trace | nettracer ${command}), or "-" to read the terminal`,
      'usage',
    );
  }
}

/** "FILE:line N" or, for standard input, "line N": where error messages point. */
export function lineRef(input: Input, n: number): string {
  return input.file === undefined ? `line ${n}` : `${input.file}:line ${n}`;
}

/** A line as a value, or what is wrong with it. */
export function parseLine(line: Line): { value: unknown } | { error: string } {
  if ('error' in line) return line;
  if (line.text.trim() === '') return { error: 'an empty line, not a record' };
  try {
    return { value: JSON.parse(line.text) };
  } catch (e) {
    // V8's message quotes at most a few characters of the line.
    return { error: `not JSON (${printable((e as Error).message).slice(0, 120)})` };
  }
}

/**
 * Reads `input` to its end: `onRecord` for each valid record, `onInvalid` for
 * each line that is not one (either may throw to stop). A file that cannot
 * be read is a usage error naming it.
 */
export async function readRecords(
  input: Input,
  check: RecordCheck,
  onRecord: (record: unknown, n: number) => void,
  onInvalid: (n: number, why: string) => void,
): Promise<void> {
  try {
    await readLines(input.stream, (line) => {
      const parsed = parseLine(line);
      const why = 'error' in parsed ? parsed.error : check(parsed.value);
      if (why !== undefined) onInvalid(line.n, why);
      else onRecord((parsed as { value: unknown }).value, line.n);
    });
  } catch (e) {
    throw readError(input, e);
  }
}

function readError(input: Input, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof TracerError || typeof err?.code !== 'string' || typeof err.syscall !== 'string') return e;
  const name = input.file ?? 'standard input';
  switch (err.code) {
    case 'ENOENT':
      return new TracerError(`${name}: no such file`, 'usage');
    case 'EISDIR':
      return new TracerError(`${name}: is a directory`, 'usage');
    case 'EACCES':
      return new TracerError(`${name}: permission denied`, 'usage');
    default:
      return new TracerError(`${name}: cannot read (${err.code})`, 'usage');
  }
}
