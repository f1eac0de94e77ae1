import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeComm, forTerminal } from '../../src/tracer/comm.js';

const comm = (...parts: (string | number[])[]) => {
  const b = new Uint8Array(16);
  let at = 0;
  for (const p of parts) for (const c of typeof p === 'string' ? Buffer.from(p, 'utf8') : p) b[at++] = c;
  return decodeComm(b, 0, 16);
};

describe('process names', () => {
  it('plain names, up to the NUL and at most 16 bytes', () => {
    assert.equal(comm('curl'), 'curl');
    assert.equal(comm('0123456789abcdef'), '0123456789abcdef');
    assert.equal(comm(''), '');
  });

  it('valid UTF-8 is kept', () => {
    assert.equal(comm('größe'), 'größe');
  });

  it('control bytes, escapes and invalid UTF-8 are escaped as \\xNN', () => {
    assert.equal(comm('a', [0x0a], 'b'), 'a\\x0ab');
    assert.equal(comm([0x1b], '[31mred'), '\\x1b[31mred');
    assert.equal(comm('x', [0xff, 0xfe]), 'x\\xff\\xfe');
    assert.equal(comm('back', [0x5c], [0x07]), 'back\\x5c\\x07'); // the escape char itself is escaped when escaping
  });

  it('the backslash is escaped, so a literal \\x7f and the byte 0x7f read differently', () => {
    assert.equal(comm('\\x7f'), '\\x5cx7f');
    assert.equal(comm([0x7f]), '\\x7f');
    assert.equal(comm('back\\slash'), 'back\\x5cslash');
    assert.equal(comm('é\\'), '\\xc3\\xa9\\x5c');
  });

  it('invisible formatting characters are escaped, not kept as valid UTF-8', () => {
    const invisible = [
      ...[0x200b, 0x200c, 0x200d, 0x200e, 0x200f], // zero-width, LRM, RLM
      ...[0x202a, 0x202b, 0x202c, 0x202d, 0x202e], // bidi embeddings and overrides
      ...[0x2066, 0x2067, 0x2068, 0x2069], // bidi isolates
      ...[0x2028, 0x2029, 0xfeff], // separators, BOM
      ...[0x061c, 0x2060, 0x2064], // Arabic letter mark, word joiner, invisible plus
    ];
    for (const cp of invisible) {
      const bytes = [...Buffer.from(String.fromCodePoint(cp), 'utf8')];
      const hex = bytes.map((b) => `\\x${b.toString(16)}`).join('');
      assert.equal(comm('a', bytes, 'b'), `a${hex}b`, `U+${cp.toString(16)}`);
    }
    // U+202E then "live" shows as "evil".
    assert.equal(comm([0xe2, 0x80, 0xae], 'live'), '\\xe2\\x80\\xaelive');
  });

  it('text for a terminal: controls and invisible formatting characters as \\xNN, the rest kept', () => {
    assert.equal(forTerminal('größe'), 'größe');
    assert.equal(
      forTerminal('a\u202eb\u200bc\x1b[2J\u0085\ufeff'),
      'a\\xe2\\x80\\xaeb\\xe2\\x80\\x8bc\\x1b[2J\\xc2\\x85\\xef\\xbb\\xbf',
    );
    assert.equal(forTerminal(comm('\\x7f')), '\\x5cx7f', 'a decoded name is shown as it is');
  });

  it('the result is always safe in JSON and a terminal', () => {
    for (let c = 0; c < 256; c++) {
      const s = comm('p', [c === 0 ? 1 : c]);
      assert.doesNotMatch(
        s,
        /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/,
      );
      assert.deepEqual(JSON.parse(JSON.stringify({ s })), { s });
    }
  });
});
