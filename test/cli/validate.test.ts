import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sluice } from '../support/cli.js';

async function topologyFile(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

describe('sluice validate / run on invalid input', () => {
  it('accepts the quickstart topology', async () => {
    const result = await sluice(['validate', 'topologies/quickstart.ts']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("topology 'quickstart' is valid: 6 nodes");
  });

  it('exits 2 and names every bad path of a YAML topology', async () => {
    const file = await topologyFile(
      'bad.yaml',
      `name: bad
nodes:
  input:
    type: file
    config: { path: in.csv, format: avro }
  tidy:
    type: nope
    inputs: [input]
  output:
    type: file
    inputs: [tidy, missing]
    config: { path: out.ndjson }
`,
    );
    const result = await sluice(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nodes.input.config.format');
    expect(result.stderr).toContain("nodes.tidy.type: unknown type 'nope'");
    expect(result.stderr).toContain("nodes.output.inputs[1]: no node named 'missing'");
  });

  it('exits 2 on what a connector would refuse: a kafka source without topics, a file sink of a read-only format', async () => {
    const file = await topologyFile(
      'rules.yaml',
      `name: rules
nodes:
  events:
    type: kafka
    config: { brokers: ['127.0.0.1:9092'] }
  sheet:
    type: file
    inputs: [events]
    config: { path: out.xlsx }
`,
    );
    const result = await sluice(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nodes.events.config.topics: a kafka source needs `topics`');
    expect(result.stderr).toContain('nodes.sheet.config.format: the file sink does not write xlsx');
  });

  it('never starts a run of an invalid JSON topology (exit 2, nothing written)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    const file = join(dir, 'loop.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'loop',
        nodes: {
          input: { type: 'file', config: { path: join(dir, 'in.csv') } },
          a: { type: 'filter', inputs: ['input', 'b'], config: { condition: 'x > 1' } },
          b: { type: 'filter', inputs: ['a'], config: { condition: 'x > 2' } },
          output: { type: 'file', inputs: ['b'], config: { path: join(dir, 'out.ndjson') } },
        },
      }),
    );
    const result = await sluice(['run', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cycle through nodes');
  });

  it('exits 2 on usage errors and unknown commands, 0 on --help', async () => {
    expect((await sluice(['frobnicate'])).code).toBe(2);
    expect((await sluice(['run'])).code).toBe(2);
    expect((await sluice(['run', 'x.yaml', '--nope'])).code).toBe(2);
    const help = await sluice(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: sluice run <topology>');
    expect((await sluice(['validate', 'does/not/exist.yaml'])).stderr).toContain('file not found');
  });
});
