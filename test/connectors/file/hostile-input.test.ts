import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import '../../../src/connectors/file/index.js';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { MemoryCheckpointStore } from '../../../src/state/memory-checkpoint-store.js';
import { compileTopology } from '../../../src/topology/compile.js';
import { tempDir } from '../../formats/helpers.js';

const logger = pino({ level: 'silent' });
const dir = tempDir('sluice-file-hostile-');
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

/** Runs file → file and returns the summary, the rows written and the dead letters. */
async function copy(name: string, input: string, config: Record<string, unknown> = {}) {
  const out = join(dir, `${name}.out.ndjson`);
  const deadLetters = join(dir, `${name}.dead.ndjson`);
  const topology = compileTopology({
    name,
    settings: { batch_size: 1000 },
    dead_letter: { type: 'file', config: { path: deadLetters } },
    nodes: {
      input: { type: 'file', config: { path: input, ...config } },
      output: { type: 'file', inputs: ['input'], config: { path: out } },
    },
  });
  const summary = await runTopology(topology, { logger, checkpoints: new MemoryCheckpointStore() });
  return {
    summary,
    rows: lines(out),
    deadLetters: lines(deadLetters).map((l) => JSON.parse(l) as { reason: string; record: string; origin: string }),
  };
}

describe('file source on hostile input', () => {
  it('a run over a 97 KiB deeply nested NDJSON record completes with one dead letter; counts reconcile', async () => {
    const input = join(dir, 'deep.ndjson');
    const deep = `{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    writeFileSync(input, ['{"n":1}', deep, '{"n":2}', '{"n":{"x":[1]}}'].join('\n') + '\n');
    const { summary, rows, deadLetters } = await copy('deep', input, { json: { max_depth: 8 } });
    expect(summary.status, summary.error).toBe('completed');
    expect(rows).toEqual(['{"n":"1"}', '{"n":"2"}', '{"n":"{\\"x\\":[1]}"}']);
    expect(deadLetters.map((d) => [JSON.parse(d.origin).line, d.reason])).toEqual([[2, 'record nests deeper than max_depth (8 levels)']]);
    const read = summary.nodes.find((n) => n.node === 'input')!;
    expect(read.rowsIn).toBe(rows.length + deadLetters.length);
  });

  it('max_record_bytes: an unclosed quote costs one line, the rows after it are delivered', async () => {
    const input = join(dir, 'quote.csv');
    const body = Array.from({ length: 20_000 }, (_, i) => `${i + 3},name ${i + 3}`).join('\n');
    writeFileSync(input, `id,name\n1,one\n2,"never closed\n${body}\n`);
    const { summary, rows, deadLetters } = await copy('quote', input, { max_record_bytes: 10_000 });
    expect(summary.status, summary.error).toBe('completed');
    expect(deadLetters.map((d) => [JSON.parse(d.origin).line, d.record])).toEqual([[3, '2,"never closed']]);
    expect(deadLetters[0].reason).toMatch(/max_record_bytes \(10000 bytes\)/);
    expect(rows).toHaveLength(20_001);
    expect(summary.nodes.find((n) => n.node === 'input')!.rowsIn).toBe(20_002);
  });

  it('an xlsx whose shared strings inflate past xlsx.max_shared_strings_bytes fails the run with that limit named', async () => {
    const input = join(dir, 'strings.xlsx');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('data');
    sheet.addRow(['id', 'text']);
    for (let i = 0; i < 500; i++) sheet.addRow([i, `text ${i}`]);
    await book.xlsx.writeFile(input);
    expect((await copy('xlsx-ok', input)).rows).toHaveLength(500);
    const { summary } = await copy('xlsx-limit', input, { xlsx: { max_shared_strings_bytes: 5000 } });
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain('xlsx.max_shared_strings_bytes (5000 bytes)');
  });
});
