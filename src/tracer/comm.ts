// Process names are chosen by the process itself: anything may be in them.
// Keep printable text, escape everything else, so JSON and terminals stay
// safe and a name cannot pass for another. The one definition of a process
// name's text; native/ndjson.cc writes the same for printable ASCII names.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Characters a terminal does not show as themselves: controls (C0, DEL, C1)
 * and the invisible formatting characters that make text look other than it
 * is: zero-width spaces and joiners and the LRM/RLM marks (U+200B-U+200F),
 * line and paragraph separators (U+2028, U+2029), bidirectional embeddings
 * and overrides (U+202A-U+202E) and isolates (U+2066-U+2069), the Arabic
 * letter mark (U+061C, the other bidirectional control), the word joiner and
 * invisible operators (U+2060-U+2064), the byte order mark (U+FEFF).
 */
const INVISIBLE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
const EVERY_INVISIBLE = new RegExp(INVISIBLE.source, 'g');

/** The UTF-8 bytes of `s` as \xNN. */
const bytesEscaped = (s: string): string =>
  [...Buffer.from(s, 'utf8')].map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('');

/**
 * Decode a NUL-terminated comm field. Printable text is kept; a backslash
 * (which starts an escape: a literal "\x7f" must not read as the byte 0x7f),
 * control characters, invisible formatting characters and invalid UTF-8 make
 * every byte but printable ASCII other than the backslash read \xNN.
 */
export function decodeComm(b: Uint8Array, at: number, len: number): string {
  let end = at;
  let plain = true; // printable ASCII, no backslash
  let ascii = true;
  while (end < at + len && b[end] !== 0) {
    const c = b[end];
    if (c < 0x20 || c > 0x7e) plain = ascii = false;
    else if (c === 0x5c) plain = false;
    end++;
  }
  if (plain) {
    let text = '';
    for (let i = at; i < end; i++) text += String.fromCharCode(b[i]);
    return text;
  }
  if (!ascii) {
    let text: string | undefined;
    try {
      text = utf8.decode(b.subarray(at, end));
    } catch {
      text = undefined;
    }
    if (text !== undefined && !text.includes('\\') && !INVISIBLE.test(text)) return text;
  }
  let out = '';
  for (let i = at; i < end; i++) {
    const c = b[i];
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * Text for a person's terminal (the table, log and legacy formats, summary
 * tables): controls and invisible formatting characters as their UTF-8
 * bytes, \xNN, as in process names. For text that did not come through
 * decodeComm(): fields of a capture file, which may hold anything.
 */
export function forTerminal(text: string): string {
  return text.replace(EVERY_INVISIBLE, bytesEscaped);
}
