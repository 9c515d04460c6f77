import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rowsOf } from '../../src/core/batch.js';
import type { DeadLetter } from '../../src/core/dead-letter.js';
import { readRecords, type ByteSource, type FormatName, type ReadChunk, type ReadOptions } from '../../src/formats/index.js';

/** A fresh temp directory for one test file. */
export function tempDir(prefix = 'sluice-formats-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeTemp(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export async function readAll(
  input: ByteSource | string,
  format: FormatName,
  options: ReadOptions = {},
): Promise<{ chunks: ReadChunk[]; rows: Record<string, unknown>[]; deadLetters: DeadLetter[] }> {
  const chunks: ReadChunk[] = [];
  for await (const chunk of readRecords(input, format, options)) chunks.push(chunk);
  return { chunks, rows: chunks.flatMap((c) => rowsOf(c.data)), deadLetters: chunks.flatMap((c) => c.deadLetters) };
}
