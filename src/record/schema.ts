// The subset of JSON Schema (draft 2020-12) the record table is written in.
// scripts/generate.ts turns it into the published schemas and TypeScript types.

export type SchemaType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

export interface Schema {
  type?: SchemaType | readonly SchemaType[];
  const?: string;
  enum?: readonly string[];
  format?: 'date-time';
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  items?: Schema;
  maxItems?: number;
  properties?: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  additionalProperties?: false;
  $ref?: string;
  title?: string;
  description?: string;
}
