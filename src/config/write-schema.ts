/**
 * Generates `schema/switchyard.schema.json` from `configSchema` (`npm run schema`). The drift
 * test compares the committed file with `renderSchemaJson()`, so edit `schema.ts`, never the
 * JSON file.
 *
 * Owns: the JSON rendering of the schema, and writing it when run as a script.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configSchema } from './schema.js';

/** The published schema text: 2-space indented JSON with a trailing newline. */
export function renderSchemaJson(): string {
  return `${JSON.stringify(configSchema, null, 2)}\n`;
}

/** Where the published schema lives, from this module (dist/src/config or src/config). */
export function schemaFileUrl(): URL {
  const fromDist = import.meta.url.includes('/dist/src/config/');
  return new URL(fromDist ? '../../../schema/switchyard.schema.json' : '../../schema/switchyard.schema.json', import.meta.url);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = schemaFileUrl();
  writeFileSync(target, renderSchemaJson());
  process.stdout.write(`wrote ${fileURLToPath(target)}\n`);
}
