// How much a counter of a connection record grew between two readings. The
// kernel keeps some counters in 32 bits (tcp_sock's segs_out, segs_in,
// total_retrans: the wire's u32 members), which start again from 0 after
// 2^32 segments, about 86 minutes at 10 Gbit/s: their growth is counted
// modulo 2^32, so deltas (--incremental) and the sums built from them
// (summarize, the legacy format) never go backwards. Correct while fewer than
// 2^32 segments pass between two records of a connection.
import { SIZE, type WireMember } from '../generated/wire.js';
import { FIELDS, HEADER_BYTES } from './fields.js';

/** Where a counter read from this wire member starts again from 0; undefined for 64-bit ones (never, in practice). */
export function wrapOf(member: WireMember): number | undefined {
  return SIZE[member] < 8 ? 2 ** (8 * SIZE[member]) : undefined;
}

/** `now - before` modulo `wrap`; without a wrap, never below 0 (a 64-bit counter cannot go backwards). */
export function counterDelta(now: number, before: number, wrap: number | undefined): number {
  if (wrap === undefined) return Math.max(0, now - before);
  const d = (now - before) % wrap;
  return d < 0 ? d + wrap : d;
}

interface CounterSource {
  wrap?: number;
  /** --header-size adds header bytes per packet of this 32-bit counter. */
  headersWrap?: number;
}

/** The counter fields of the connection records, by name. */
const COUNTERS = new Map<string, CounterSource>(
  FIELDS.flatMap((f) =>
    f.from && 'wire' in f.from && f.from.counter
      ? [
          [
            f.name,
            {
              wrap: wrapOf(f.from.wire),
              headersWrap: f.from.plusHeadersPer ? wrapOf(f.from.plusHeadersPer) : undefined,
            },
          ] as const,
        ]
      : [],
  ),
);

/**
 * How much the counter `field` of a connection record grew from `before`
 * (its value in an earlier record of the connection, or a running total
 * built from them) to `now`. A byte count with --header-size includes 66 or
 * 77 bytes per packet of a 32-bit packet counter: when that wraps the byte
 * count goes back by a multiple of 2^32 times the header size, which is
 * counted back in; a byte count that goes back by less grew by 0.
 */
export function counterGrowth(field: string, now: number, before: number, family: 'ipv4' | 'ipv6'): number {
  return counterGrowthOf(field)(now, before, family);
}

/** counterGrowth() of one field, looked up once (a hot loop calls it per connection). */
export function counterGrowthOf(field: string): (now: number, before: number, family: 'ipv4' | 'ipv6') => number {
  const c = COUNTERS.get(field);
  if (!c) throw new Error(`${field} is not a counter of the connection records`);
  const { wrap, headersWrap } = c;
  return (now, before, family) => {
    if (wrap !== undefined || now >= before || headersWrap === undefined) return counterDelta(now, before, wrap);
    // Only a drop of more than half the headers' wrap is one (or a running
    // total already past one); a smaller drop is no traffic, not 283 GB of it.
    const bytesWrap = HEADER_BYTES[family] * headersWrap;
    return before - now > bytesWrap / 2 ? counterDelta(now, before, bytesWrap) : 0;
  };
}

/**
 * What a connection's bytes_sent reading counts beyond its payload: TCP's
 * bytes_acked includes the SYN, and a connection found open at start
 * (preexisting) and outgoing is read from it, one byte more.
 */
export const synByteOf = (preexisting: boolean, direction: string): number =>
  preexisting && direction === 'outgoing' ? 1 : 0;
