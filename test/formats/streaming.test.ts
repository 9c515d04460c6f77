import { execFileSync } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, type FormatName } from '../../src/formats/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir();

function write(stream: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}

/**
 * The file is a FIFO whose writer holds back the end of the data: the first chunk can only arrive
 * if the reader streams instead of reading the file to its end first.
 */
describe.each([
  ['ndjson', '', (i: number) => `${JSON.stringify({ i, s: 'x'.repeat(50) })}\n`, ''],
  ['csv', 'i,s\n', (i: number) => `${i},"x,${'y'.repeat(50)}"\n`, ''],
  ['json', '[\n', (i: number) => `${i > 0 ? ',' : ''}{"i":${i}}\n`, ']\n'],
] as const)('%s reader streams', (format, head, record, tail) => {
  it('emits its first chunk before the end of the file is written', async () => {
    const fifo = join(dir, `stream-${format}`);
    execFileSync('mkfifo', [fifo]);
    const chunks = readRecords(fifo, format as FormatName, { batchSize: 100, sampleSize: 50 });
    const first = chunks.next();
    const writer = createWriteStream(fifo);
    await write(writer, head + Array.from({ length: 250 }, (_, i) => record(i)).join(''));
    const chunk = await first;
    expect(chunk.done).toBe(false);
    expect(chunk.value!.data.numRows).toBe(100);
    // Only now does the rest of the file exist.
    await write(writer, Array.from({ length: 750 }, (_, i) => record(250 + i)).join('') + tail);
    await new Promise<void>((resolve) => writer.end(resolve));
    let rows = 100;
    for await (const next of chunks) {
      expect(next.deadLetters).toEqual([]);
      rows += next.data.numRows;
    }
    expect(rows).toBe(1000);
  });
});
