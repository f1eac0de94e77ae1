// Process names are chosen by the process itself: anything may be in them.
// Keep printable text, escape everything else, so JSON and terminals stay safe.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode a NUL-terminated comm field; non-printable or invalid bytes become \xNN. */
export function decodeComm(b: Uint8Array, at: number, len: number): string {
  let end = at;
  let ascii = true;
  while (end < at + len && b[end] !== 0) {
    const c = b[end];
    if (c < 0x20 || c > 0x7e) ascii = false;
    end++;
  }
  if (ascii) {
    let text = '';
    for (let i = at; i < end; i++) text += String.fromCharCode(b[i]);
    return text;
  }
  let text: string | undefined;
  try {
    text = utf8.decode(b.subarray(at, end));
  } catch {
    text = undefined;
  }
  // Valid UTF-8 without control characters (C0, DEL, C1) is kept as is.
  if (text !== undefined && !/[\u0000-\u001f\u007f-\u009f]/.test(text)) return text;
  let out = '';
  for (let i = at; i < end; i++) {
    const c = b[i];
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}
