import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import '../../src/register-all.js';
import { registry } from '../../src/core/registry.js';
import { referenceMarkdown, topologyJsonSchema } from '../../src/topology/reference.js';
import { errorsMarkdown } from '../../src/core/error-reference.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { ROOT } from '../support/cli.js';

describe('generated schema and reference', () => {
  it('schemas/topology.schema.json and docs/reference.md are up to date (npm run schemas)', async () => {
    const schema = JSON.parse(await readFile(`${ROOT}/schemas/topology.schema.json`, 'utf8'));
    expect(schema).toEqual(topologyJsonSchema());
    expect(await readFile(`${ROOT}/docs/reference.md`, 'utf8')).toBe(referenceMarkdown());
  });

  it('docs/errors.md lists every error code with its status (npm run schemas)', async () => {
    const doc = await readFile(`${ROOT}/docs/errors.md`, 'utf8');
    expect(doc).toBe(errorsMarkdown());
    for (const [code, { http }] of Object.entries(ERROR_CODES)) expect(doc).toContain(`| \`${code}\` | ${http} |`);
  });

  it('covers every registered type, each with its config schema', () => {
    const schema = topologyJsonSchema() as { properties: { nodes: { patternProperties: Record<string, { allOf: Array<{ if: { properties: { type: { const: string } } } }> }> } } };
    const node = Object.values(schema.properties.nodes.patternProperties)[0];
    const covered = node.allOf.map((c) => c.if.properties.type.const).sort();
    expect(covered).toEqual([...registry.connectorTypes(), ...registry.transformTypes()].sort());
    const markdown = referenceMarkdown();
    for (const type of covered) expect(markdown).toContain(`### \`${type}\``);
  });
});
