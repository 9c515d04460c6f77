/**
 * Writes schemas/topology.schema.json and docs/reference.md from the registered config schemas,
 * and docs/errors.md from the error catalogue.
 *   npm run schemas
 */
import { mkdir, writeFile } from 'node:fs/promises';
import '../src/register-all.js';
import { referenceMarkdown, topologyJsonSchema } from '../src/topology/reference.js';
import { errorsMarkdown } from '../src/core/error-reference.js';

await mkdir('schemas', { recursive: true });
await mkdir('docs', { recursive: true });
await writeFile('schemas/topology.schema.json', `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`);
await writeFile('docs/reference.md', referenceMarkdown());
await writeFile('docs/errors.md', errorsMarkdown());
process.stderr.write('wrote schemas/topology.schema.json, docs/reference.md and docs/errors.md\n');
