import { readdir, readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { readRecords } from '../../src/formats/index.js';
import { ensureGovernanceData } from '../../scripts/generate-governance-data.js';
import { ROOT, sluice } from '../support/cli.js';

describe('quickstart through the real CLI', () => {
  it('runs on embedded defaults and the counts reconcile with an independent reading of the input', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'sluice-quickstart-'));
    const manifest = await ensureGovernanceData(join(cwd, 'data/generated/resources.csv'), 200_000, 42);

    const result = await sluice(['run', join(ROOT, 'topologies/quickstart.ts'), '--json'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.status).toBe('completed');
    const node = (name: string) => summary.nodes.find((n: { node: string }) => n.node === name);

    // Independent oracle: parse the CSV ourselves, skipping the lines with a wrong field count.
    const text = await readFile(join(cwd, 'data/generated/resources.csv'), 'utf8');
    const records = parse(text, { columns: true, relax_column_count: true, skip_records_with_error: true }) as Record<string, string>[];
    const wellFormed = records.filter((r) => Object.keys(r).length === 8 && r.last_modified !== undefined);
    const billable = wellFormed.filter((r) => r.monthly_cost !== '' && Number(r.monthly_cost) >= 0);
    const nonCompliant = billable.filter((r) => r.compliance_status === 'non_compliant');

    expect(node('resources').rowsIn).toBe(manifest.lines);
    expect(node('resources').deadLettered).toBe(manifest.malformed);
    expect(node('resources').rowsOut).toBe(manifest.lines - manifest.malformed);
    expect(node('billable').filtered).toBe(wellFormed.length - billable.length);
    expect(node('warehouse').rowsOut).toBe(billable.length);
    expect(node('alerts').rowsOut).toBe(nonCompliant.length);
    // in = out + filtered + dead-lettered
    expect(node('resources').rowsIn).toBe(node('warehouse').rowsOut + node('billable').filtered + summary.deadLettered);

    // What is on disk matches the summary.
    const parquetDir = join(cwd, 'out/quickstart/resources.parquet');
    let parquetRows = 0;
    let costSum = 0;
    for (const part of (await readdir(parquetDir)).filter((f) => f.endsWith('.parquet'))) {
      for await (const chunk of readRecords(join(parquetDir, part), 'parquet')) {
        parquetRows += chunk.data.numRows;
        for (const v of chunk.data.getChild('cost')!) costSum += Number(v);
        expect(chunk.data.schema.fields.map((f) => f.name)).toEqual([
          'resource_id',
          'resource_group',
          'region',
          'type',
          'compliance_status',
          'cost',
          'cpu_percent',
          'last_modified',
        ]);
      }
    }
    expect(parquetRows).toBe(billable.length);
    expect(costSum).toBeCloseTo(
      billable.reduce((a, r) => a + Number(r.monthly_cost), 0),
      2,
    );

    const alerts = (await readFile(join(cwd, 'out/quickstart/non-compliant.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts.length).toBe(nonCompliant.length);
    expect(alerts.every((a) => a.compliance_status === 'non_compliant' && typeof a.cost === 'number')).toBe(true);

    const dead = (await readFile(join(cwd, 'out/quickstart/dead-letter.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(dead.length).toBe(manifest.malformed);
    for (const d of dead) {
      expect(d.node).toBe('resources');
      expect(d.reason).not.toBe('');
      const origin = JSON.parse(d.origin);
      expect(origin.file).toContain('resources.csv');
      // The line number points at the raw text that was rejected.
      expect(text.split('\n')[origin.line - 1]).toBe(d.record);
    }
    // A completed bounded run leaves no checkpoint behind: the next run starts over.
    expect(JSON.parse(await readFile(join(cwd, '.sluice/checkpoints/quickstart.json'), 'utf8'))).toEqual({});
  });
});
