import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeComm } from '../../src/tracer/comm.js';

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

  it('the result is always safe in JSON and a terminal', () => {
    for (let c = 0; c < 256; c++) {
      const s = comm('p', [c === 0 ? 1 : c]);
      assert.doesNotMatch(s, /[\u0000-\u001f\u007f-\u009f]/);
      assert.deepEqual(JSON.parse(JSON.stringify({ s })), { s });
    }
  });
});
