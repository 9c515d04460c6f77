import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import pino from 'pino';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rowsOf, type Batch } from '../../../src/core/batch.js';
import { Credits } from '../../../src/core/flow-control.js';
import { parseConnectorConfig } from '../../../src/core/definition-config.js';
import { registry } from '../../../src/core/registry.js';
import '../../../src/connectors/file/index.js';
import { tempDir } from '../../formats/helpers.js';

const logger = pino({ level: 'silent' });
const dir = tempDir('sluice-file-readonly-');
const connector = () => registry.getConnector('file')!;

async function readFile(config: Record<string, unknown>): Promise<Batch[]> {
  const source = connector().createSource!(parseConnectorConfig(connector(), config, 'source'), { node: 'in', logger });
  const [partition] = await source.partitions();
  const read = source.read(partition, undefined, { flow: new Credits(100), signal: new AbortController().signal, logger, batchSize: 2 });
  return lastValueFrom(read.pipe(toArray()));
}

describe('file connector, xlsx and xml', () => {
  it('reads the configured sheet of a workbook', async () => {
    const path = join(dir, 'book.xlsx');
    const book = new ExcelJS.Workbook();
    book.addWorksheet('first').addRow(['skip']);
    const sheet = book.addWorksheet('second');
    sheet.addRow(['k', 'v']);
    sheet.addRow(['a', 1]);
    sheet.addRow(['b', 2]);
    sheet.addRow(['c', 3]);
    await book.xlsx.writeFile(path);
    const batches = await readFile({ path, xlsx: { sheet: 'second' } });
    expect(batches.map((b) => b.meta.position)).toEqual([{ row: 3 }, { row: 4 }]);
    expect(batches.flatMap((b) => rowsOf(b.data))).toEqual([
      { k: 'a', v: 1 },
      { k: 'b', v: 2 },
      { k: 'c', v: 3 },
    ]);
  });

  it('reads the configured record element of an XML file and enforces max_bytes', async () => {
    const path = join(dir, 'feed.xml');
    writeFileSync(path, '<feed><title>t</title><entry><id>1</id></entry><entry><id>2</id></entry></feed>');
    const batches = await readFile({ path, xml: { record_tag: 'entry' } });
    expect(batches.flatMap((b) => rowsOf(b.data))).toEqual([{ id: 1 }, { id: 2 }]);
    await expect(readFile({ path, xml: { record_tag: 'entry', max_bytes: 10 } })).rejects.toThrow(/may be at most 10 bytes/);
  });

  it('refuses xlsx and xml as sink formats with an error naming config.format', () => {
    for (const config of [{ path: join(dir, 'out.xlsx') }, { path: join(dir, 'out.ndjson'), format: 'xml' }]) {
      expect(() => parseConnectorConfig(connector(), config, 'sink')).toThrow(
        expect.objectContaining({ code: 'SLUICE_CONFIG_INVALID', issues: [expect.objectContaining({ path: 'config.format' })] }),
      );
    }
  });
});
