// Narrowing parsed JSON (bpftool's, the tracer's, the generators') without `any`.

export type Obj = Record<string, unknown>;

export const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** x as an object, or throws naming what it should have been. */
export function obj(x: unknown, what: string): Obj {
  if (!isObj(x)) throw new Error(`${what}: not a JSON object: ${JSON.stringify(x)?.slice(0, 200)}`);
  return x;
}

/** x as an array, or throws. */
export function arr(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw new Error(`${what}: not a JSON array`);
  return x;
}

/** A number field, or NaN. */
export const num = (o: Obj, k: string): number => (typeof o[k] === 'number' ? o[k] : NaN);

/** A number field, or 0 (counters a record may leave out). */
export const count = (o: Obj, k: string): number => (typeof o[k] === 'number' ? o[k] : 0);

/** A string field, or ''. */
export const str = (o: Obj, k: string): string => (typeof o[k] === 'string' ? o[k] : '');
