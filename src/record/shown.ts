// Input shown in messages: short, and with nothing a terminal would act on
// (a capture is anyone's text; an escape sequence in it must not reach a terminal as one).

/**
 * A value as JSON, cut to 40 characters, with nothing a terminal would act on.
 * An object or array is named, not written: JSON.stringify recurses, and a
 * line of 500,000 nested brackets (which JSON.parse reads) would overflow the stack.
 */
export function shown(value: unknown): string {
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return printable(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}

/** Text with control and direction-changing characters escaped as \uXXXX. */
export function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
