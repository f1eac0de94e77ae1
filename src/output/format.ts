// An output format: text for each batch of records, and for the end of each
// metrics interval (the "cycle" of the original's periodic outputs).
import type { NettracerRecord } from '../generated/records.js';

export interface OutputFormat {
  records(records: readonly NettracerRecord[]): string;
  /** Called after every metrics walk (and once at start); returns what a cycle prints. */
  cycle?(nowMs: number): string;
}

export type FormatName = 'ndjson' | 'table' | 'log' | 'legacy';
export const FORMATS: readonly FormatName[] = ['ndjson', 'table', 'log', 'legacy'];
