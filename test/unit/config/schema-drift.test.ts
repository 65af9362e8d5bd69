/**
 * The published schema/switchyard.schema.json and the generated validator
 * (src/config/schema-validator.generated.ts) must be exactly what src/config/schema.ts renders
 * (regenerate with `npm run schema`), and the schema must itself be one ajv accepts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { configSchema } from '../../../src/config/schema.js';
import { renderSchemaJson, renderValidatorModule, schemaFileUrl, validatorFileUrl } from '../../../src/config/write-schema.js';

// This file runs from dist/test/unit/config/, four levels below the repository root.
const published = new URL('../../../../schema/switchyard.schema.json', import.meta.url);

test('schema/switchyard.schema.json matches src/config/schema.ts (run `npm run schema`)', () => {
  const onDisk = readFileSync(published, 'utf8');
  assert.equal(onDisk, renderSchemaJson(), 'the published schema is stale: run `npm run schema`');
});

test('write-schema writes to the same file the drift check reads', () => {
  assert.equal(schemaFileUrl().href, published.href);
  assert.equal(validatorFileUrl().href, generatedValidator.href);
});

// The validator Switchyard runs is ajv's standalone code for the schema, generated at build time.
const generatedValidator = new URL('../../../../src/config/schema-validator.generated.ts', import.meta.url);

test('src/config/schema-validator.generated.ts matches src/config/schema.ts (run `npm run schema`)', () => {
  const onDisk = readFileSync(generatedValidator, 'utf8');
  assert.equal(onDisk, renderValidatorModule(), 'the generated validator is stale: run `npm run schema`');
});

test('the published schema compiles and has the documented shape', () => {
  const json = JSON.parse(readFileSync(published, 'utf8')) as Record<string, unknown>;
  assert.equal(json['$schema'], 'http://json-schema.org/draft-07/schema#');
  const ajv = new Ajv({ strict: false });
  assert.doesNotThrow(() => ajv.compile(json));
  assert.deepEqual(json, JSON.parse(JSON.stringify(configSchema)));
});

test('every object in the schema forbids unknown keys', () => {
  const open: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => walk(n, `${path}/${i}`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['type'] === 'object' && n['additionalProperties'] !== false) {
      // Maps (header → values, cookie → values, headers to set) constrain their values instead.
      const isMap = typeof n['additionalProperties'] === 'object' && n['properties'] === undefined;
      const isWafRule = path.endsWith('/waf/properties/rules/items');
      if (!isMap && !isWafRule) open.push(path);
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'default' && k !== 'examples') walk(v, `${path}/${k}`);
  };
  walk(configSchema, '#');
  assert.deepEqual(open, []);
});
