import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { StringDecoder } from 'node:string_decoder';
import type { Field } from 'apache-arrow';
import { TypeResolver } from './types.js';
import { fieldsOf } from './source.js';

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** A field of COPY's text format → its value (null for `\N`). */
function unescape(value: string): string | null {
  if (value === '\\N') return null;
  if (!value.includes('\\')) return value;
  return value.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}

/**
 * Reads a whole table with `COPY table TO STDOUT` (text format, the fastest way out of
 * PostgreSQL) and calls `emit` with batches of `batchSize` rows as text columns. The stream is
 * not read further while `emit` is pending, so a slow consumer slows the COPY.
 */
export async function readTableCopy(
  client: pg.Client,
  table: string,
  batchSize: number,
  signal: AbortSignal,
  emit: (fields: Field[], columns: (string | null)[][]) => Promise<void>,
): Promise<void> {
  const probe = await client.query({ text: `select * from ${table} limit 0`, rowMode: 'array' });
  const fields = await fieldsOf(new TypeResolver(client), probe);
  const width = fields.length;
  const stream = client.query(copyStreams.to(`copy ${table} to stdout`));
  const decoder = new StringDecoder('utf8');
  let columns: (string | null)[][] = fields.map(() => []);
  let rows = 0;
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (signal.aborted) {
      stream.destroy();
      return;
    }
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const parts = line.split('\t');
      for (let c = 0; c < width; c++) columns[c].push(unescape(parts[c]));
      if (++rows === batchSize) {
        await emit(fields, columns);
        columns = fields.map(() => []);
        rows = 0;
      }
    }
  }
  if (rows > 0) await emit(fields, columns);
}
