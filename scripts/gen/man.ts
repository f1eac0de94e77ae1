// man/nettracer.1 from the CLI's own definitions (oclif.manifest.json), the
// record table and the hook table (read from the built addon), so options,
// record fields and hooks cannot drift from the page.
import { AGENT } from './man-agent.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldsOf, RECORDS, schemaOf } from '../../src/record/fields.js';
import { loadNative } from '../../src/tracer/native.js';
import { banner, type Generated, ROOT } from './common.js';
import { LIVE, NOT_IN_CONFIG } from '../../src/cli/config.js';
import {
  ACCURACY,
  AT_THE_TERMINAL,
  DIAGNOSTICS,
  ENVIRONMENT,
  FAILURES,
  EXIT_STATUS_HEAD,
  FORMATS_AND_CONFIG,
  READING_A_CAPTURE,
  SIGNALS_TO_END,
} from './man-prose.js';
import { kernelsRoff } from './support.js';

interface ManifestFlag {
  char?: string;
  type: 'boolean' | 'option';
  helpValue?: string;
  summary?: string;
  description?: string;
  default?: unknown;
  hidden?: boolean;
}

interface Manifest {
  commands: Record<string, { summary?: string; description?: string; flags?: Record<string, ManifestFlag> }>;
}

/** Text for roff: backslashes, leading dots/quotes, and hyphens in option names. */
function esc(text: unknown): string {
  return String(text)
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => l.replace(/^\s+/, '').replace(/^([.'])/, '\\&$1'))
    .join('\n');
}

function flagLine(name: string, f: ManifestFlag): string {
  const short = f.char ? `\\fB\\-${f.char}\\fR, ` : '';
  const value = f.type === 'option' ? ` \\fI${esc(f.helpValue ?? 'VALUE')}\\fR` : '';
  return `${short}\\fB\\-\\-${esc(name)}\\fR${value}`;
}

function commands(manifest: Manifest): string {
  const ids = Object.keys(manifest.commands).sort();
  let page = '.SH SYNOPSIS\n';
  for (const id of ids) page += `.B nettracer ${esc(id)}\n.RI [ options ]\n.br\n`;
  page += `.B nettracer
.RB [ \\-\\-help | \\-\\-version ]
.SH DESCRIPTION
.B nettracer
follows every TCP connection on the host with tracepoint BPF programs and
reports, for each connection end, who opened it (process id, process name,
network namespace), its establishment, its counters every interval (bytes,
segments, retransmissions, round\\-trip time) and its close.
It reimplements the NetTracer that Dynatrace ships in OneAgent.
Output is NDJSON: one JSON object per line, each valid against a JSON Schema
published in \\fIschemas/v1/\\fR.
.PP
Numbers given to options, on the command line or in a \\fB\\-\\-config\\fR file, are written
in plain decimal: digits for a count, an id or a size (\\fB\\-\\-pid 16\\fR), with a decimal
point where a fraction makes sense (\\fB\\-\\-interval 0.5\\fR). Hexadecimal, octal or binary
prefixes (0x10), exponents (1e3) and spaces around the digits are usage errors (exit 2).
.SH COMMANDS
`;
  for (const id of ids) {
    const c = manifest.commands[id];
    page += `.SS "nettracer ${esc(id)}"\n${esc(c.summary ?? '')}\n`;
    if (c.description) page += `.PP\n${esc(c.description)}\n`;
    const flags = Object.entries(c.flags ?? {}).filter(([, f]) => !f.hidden);
    flags.sort(([a], [b]) => a.localeCompare(b));
    for (const [name, f] of flags) {
      page += `.TP\n${flagLine(name, f)}\n${esc(f.summary ?? f.description ?? '')}`;
      if (f.default !== undefined && f.type === 'option') page += ` Default: ${esc(f.default)}.`;
      page += '\n';
    }
  }
  return page;
}

function records(): string {
  let page = `.SH RECORDS
Every record has a \\fBtype\\fR. Connection records describe one end of a
connection: \\fBsaddr\\fR/\\fBsport\\fR are the local end, \\fBdaddr\\fR/\\fBdport\\fR the remote end.
`;
  for (const r of RECORDS.filter((x) => x.stream)) {
    page += `.SS "${r.type}"\n${esc(r.description)}\n`;
    for (const f of fieldsOf(r.type)) page += `.TP\n.B ${esc(f.name)}\n${esc(schemaOf(f).description ?? '')}\n`;
  }
  return page;
}

function hooks(): string {
  let page = `.SH "KERNEL HOOKS"
The BPF programs nettracer loads, what each is for, and what changes on a kernel
without it (\\fBnettracer check\\fR says which this kernel offers):
`;
  for (const h of loadNative().hookTable().hooks) {
    const need = h.required ? 'required' : h.group ? `optional, with the other ${h.group} hooks` : 'optional';
    page += `.TP\n.B ${esc(h.section)}\n${esc(`${h.kernelName === h.section ? '' : `${h.kernelName}, `}Linux ${h.since}+, ${need}: ${h.role}. Without it: ${h.without}.`)}\n`;
  }
  return page;
}

function config(): string {
  const list = (names: readonly string[]) => names.map((n) => `\\fB${esc(n)}\\fR`).join(', ');
  return `.SH "CONFIGURATION FILE"
\\fB\\-\\-config\\fR \\fIFILE\\fR (the original's \\-\\-args_file) reads one option per line as
\\fIname\\fR=\\fIvalue\\fR; # starts a comment. Names are the long option names above or the
original's (time_interval, with_loopback, map_size, header, debug, log, bpf, counters_interval).
A switch is set by "name=", "name=1" or "name=true", cleared by "name=0" or "name=false". The file
overrides the command line.
.PP
It is trusted only as far as who can change it: the file must be a regular file owned by root or
by the user who started nettracer (behind sudo: SUDO_UID), writable by nobody else, and every
directory above it owned by root or that user and writable by nobody else unless sticky (as
/tmp); no symbolic link is followed; at most 64 KiB. It cannot set ${list(NOT_IN_CONFIG)}: they
write files, load code or keep privileges, and go on the command line. Errors name the file, the
line and the option, never what the file holds.
.PP
A small helper, nettracer\\-config\\-reader, reads the file: started while nettracer is root, it
stays root when nettracer drops its privileges, can read only that file, and dies with nettracer;
so a file kept 0600 is re\\-read all the same. It is polled twice a second: a change of
${list(LIVE)} applies at once and tracked connections are kept; other options are reported on
standard error as taking effect at the next start. A bad file at start is a usage error (exit 2);
a bad change is reported once and the previous configuration kept.
`;
}

function exitStatus(): string {
  const required = loadNative()
    .hookTable()
    .hooks.filter((h) => h.required)
    .map((h) => h.kernelName);
  return `${EXIT_STATUS_HEAD}The kernel lacks what nettracer needs (BTF at /sys/kernel/btf/vmlinux, ${required.join(', ')}).`;
}

export function generateMan(): Generated[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const text =
    banner('oclif.manifest.json, src/record/fields.ts and native/hooks.cc', '.\\"') +
    `.TH NETTRACER 1 "" "nettracer ${esc(pkg.version)}" "User Commands"
.SH NAME
nettracer \\- trace TCP connections with eBPF and stream them as NDJSON
` +
    commands(manifest) +
    records() +
    ACCURACY +
    FAILURES +
    READING_A_CAPTURE +
    AGENT +
    FORMATS_AND_CONFIG +
    AT_THE_TERMINAL +
    config() +
    hooks() +
    kernelsRoff() +
    ENVIRONMENT +
    DIAGNOSTICS +
    exitStatus() +
    SIGNALS_TO_END;
  return [{ path: 'man/nettracer.1', text }];
}
