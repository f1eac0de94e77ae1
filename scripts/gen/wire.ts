// src/generated/wire.ts from bpf/nettracer.h: the C compiler says where each
// member of struct nt_record is (offsetof) and what each enum constant and
// flag is worth, so the TypeScript side cannot drift from the header.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { banner, type Generated, ROOT } from './common.js';

const HEADER = join(ROOT, 'bpf', 'nettracer.h');

interface Member {
  name: string;
  /** Elements, for an array member. */
  array?: string;
}

/** The members of struct nt_record, padding (_name) left out. */
function members(header: string): Member[] {
  const body = /struct nt_record \{([^}]*)\};/.exec(header)?.[1];
  if (!body) throw new Error('bpf/nettracer.h: no struct nt_record');
  const out: Member[] = [];
  for (const line of body.split('\n')) {
    const m = /^\s*(?:__[us](?:8|16|32|64)|char)\s+(\w+)(?:\[(\w+)\])?;/.exec(line);
    if (m && !m[1].startsWith('_')) out.push({ name: m[1], array: m[2] });
  }
  return out;
}

/** Each enum nt_<name> of the header: its constants, in order. */
function enums(header: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of header.matchAll(/enum nt_(\w+) \{([^}]*)\};/g)) {
    out.set(
      m[1],
      [...m[2].matchAll(/^\s*(NT_\w+)/gm)].map((c) => c[1]),
    );
  }
  return out;
}

const flags = (header: string): string[] => [...header.matchAll(/^#define (NT_F_\w+)/gm)].map((m) => m[1]);

/** Lower-case names without the constants' common prefix: NT_DIR_INCOMING -> incoming. */
function shortNames(constants: string[]): string[] {
  let prefix = constants[0].slice(0, constants[0].lastIndexOf('_') + 1);
  while (!constants.every((c) => c.startsWith(prefix)))
    prefix = prefix.slice(0, prefix.lastIndexOf('_', prefix.length - 2) + 1);
  return constants.map((c) => c.slice(prefix.length).toLowerCase());
}

/** Compiles a program against the header and reads back what it prints: name value. */
function measure(lines: string[]): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'nettracer-wire-'));
  try {
    const src = `#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "nettracer.h"
#define M(f) printf("member.%s %zu %zu\\n", #f, offsetof(struct nt_record, f), sizeof(((struct nt_record *)0)->f))
#define C(c) printf("const.%s %llu 0\\n", #c, (unsigned long long)(c))
int main(void) {
  printf("size %zu 0\\n", sizeof(struct nt_record));
${lines.map((l) => `  ${l};`).join('\n')}
  return 0;
}
`;
    writeFileSync(join(dir, 'wire.c'), src);
    execFileSync('gcc', ['-Wall', '-Werror', '-I', join(ROOT, 'bpf'), '-o', join(dir, 'wire'), join(dir, 'wire.c')]);
    const out = execFileSync(join(dir, 'wire'), { encoding: 'utf8' });
    const values = new Map<string, number>();
    for (const line of out.trim().split('\n')) {
      const [name, a, b] = line.split(' ');
      values.set(name, Number(a));
      if (name.startsWith('member.')) values.set(`width.${name.slice(7)}`, Number(b));
    }
    return values;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function generateWire(): Generated[] {
  const header = readFileSync(HEADER, 'utf8');
  const all = members(header);
  const scalars = all.filter((m) => !m.array);
  const enumMap = enums(header);
  const constants = [
    ...[...enumMap.values()].flat(),
    ...flags(header),
    'NT_ADDR_LEN',
    'NT_COMM_LEN',
    'NT_TABLE_SHARE_DEFAULT',
    'NT_FILTER_VALUES',
  ];
  const v = measure([...all.map((m) => `M(${m.name})`), ...constants.map((c) => `C(${c})`)]);
  const get = (k: string): number => {
    const x = v.get(k);
    if (x === undefined) throw new Error(`wire: no value for ${k}`);
    return x;
  };

  const reader = (m: Member): string => {
    const at = `this.o + ${get(`member.${m.name}`)}`;
    switch (get(`width.${m.name}`)) {
      case 8:
        return `u64(this.v, ${at})`;
      case 4:
        return `this.v.getUint32(${at}, true)`;
      case 2:
        return `this.v.getUint16(${at}, true)`;
      case 1:
        return `this.v.getUint8(${at})`;
      default:
        throw new Error(`wire: member ${m.name} has an unexpected width`);
    }
  };
  const constObject = (name: string, list: string[]): string => {
    const names = shortNames(list);
    return `export const ${name} = {\n${list.map((c, i) => `  ${names[i]}: ${get(`const.${c}`)},`).join('\n')}\n} as const;\n`;
  };

  let text = banner('bpf/nettracer.h', '//');
  text += `
/** sizeof(struct nt_record) */
export const RECORD_SIZE = ${get('size')};

/** Byte offset of each member of struct nt_record. */
export const OFF = {
${all.map((m) => `  ${m.name}: ${get(`member.${m.name}`)},`).join('\n')}
} as const;

/** Size in bytes of each member. */
export const SIZE = {
${all.map((m) => `  ${m.name}: ${get(`width.${m.name}`)},`).join('\n')}
} as const;

export const ADDR_LEN = ${get('const.NT_ADDR_LEN')};
export const COMM_LEN = ${get('const.NT_COMM_LEN')};
/** --table-share's default, in percent. */
export const TABLE_SHARE_DEFAULT = ${get('const.NT_TABLE_SHARE_DEFAULT')};
/** The most values --pid and --port each take. */
export const FILTER_VALUES = ${get('const.NT_FILTER_VALUES')};

/** A number member of struct nt_record. */
export type WireMember = ${scalars.map((m) => `'${m.name}'`).join(' | ')};

/** The number members of a record. */
export type WireNumbers = Readonly<Record<WireMember, number>>;

`;
  for (const [name, list] of enumMap) text += `/** enum nt_${name} */\n${constObject(name.toUpperCase(), list)}\n`;
  text += `/** NT_F_*: nt_record.flags */\n${constObject('FLAG', flags(header))}
/** u64 as a JS number: exact below 2^53 (cookies, byte counts, boot-time ns for ~104 days). */
export function u64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * 4294967296 + v.getUint32(at, true);
}

/** The number members of one nt_record, read in place from a batch. */
export abstract class WireView implements WireNumbers {
  protected v: DataView = new DataView(new ArrayBuffer(0));
  protected o = 0;
${scalars.map((m) => `  get ${m.name}(): number {\n    return ${reader(m)};\n  }`).join('\n')}
}

/** A reader of each number member: wire[member] without a keyed lookup. */
export const READ: Readonly<Record<WireMember, (r: WireNumbers) => number>> = {
${scalars.map((m) => `  ${m.name}: (r) => r.${m.name},`).join('\n')}
};
`;
  return [{ path: 'src/generated/wire.ts', text }];
}
