// `nettracer check` for people: one row per item, the fix beside what failed.
import Table from 'cli-table3';
import type { CheckReport } from '../generated/records.js';

export function checkTable(r: CheckReport): string {
  const table = new Table({
    head: ['check', 'result', 'detail'],
    wordWrap: true,
    colWidths: [26, 8, 70],
    style: { head: [], border: [] },
  });
  for (const i of r.items) {
    const result = i.ok ? 'ok' : i.required ? 'FAIL' : 'degraded';
    table.push([i.name, result, i.fix ? `${i.detail}\nfix: ${i.fix}` : i.detail]);
  }
  const verdict = r.ok
    ? `nettracer can trace here (bytes from ${r.hook_strategy}, ${r.hooks.length} programs).`
    : 'nettracer cannot trace here: see the FAIL rows.';
  return `${table.toString()}\n${verdict}\n`;
}
