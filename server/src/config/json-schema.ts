import { z } from 'zod/v4';
import { fileSchema } from './schema.js';

/**
 * The JSON Schema of the configuration file (docs/config.schema.json, for editors), generated
 * from the same zod schema the gateway validates with; `npm run config:schema` writes it.
 */
export function configJsonSchema(): Record<string, unknown> {
  // io 'input': the file holds what the user writes (a list, a number), not the parsed value.
  return z.toJSONSchema(fileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The file's text: what is committed and what the test compares. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
