import { extname } from 'node:path';
import { Observable } from 'rxjs';
import type { Batch, Position } from '../../core/batch.js';
import { SluiceError, errorMessage, isSluiceError } from '../../core/errors.js';
import { acquireUnlessAborted } from '../../core/flow-control.js';
import type { ConnectorContext, ReadContext, Source } from '../../core/ports.js';
import { localFileSource, readRecords, type ReadOptions } from '../../formats/index.js';
import type { FileConfig } from './config.js';
import { formatOf, matchingFiles } from './files.js';

/**
 * Reads files as bounded partitions, one per file. A file is streamed, never loaded whole; an
 * empty file completes without emitting a batch.
 */
export class FileSource implements Source {
  /** Stops of the reads in progress, so that close() ends them and frees their file handles. */
  private readonly reads = new Set<AbortController>();

  constructor(
    private readonly config: FileConfig,
    private readonly ctx: ConnectorContext,
  ) {}

  partitions(): Promise<string[]> {
    return matchingFiles(this.config);
  }

  private options(file: string, from: Position | undefined, ctx: ReadContext, signal: AbortSignal): ReadOptions {
    const csv = this.config.csv;
    return {
      batchSize: this.config.batch_size ?? ctx.batchSize,
      sampleSize: this.config.sample_size,
      maxRecordBytes: this.config.max_record_bytes,
      from,
      node: this.ctx.node,
      signal,
      csv: {
        delimiter: csv?.delimiter ?? (extname(file).toLowerCase() === '.tsv' ? '\t' : ','),
        quote: csv?.quote,
        header: csv?.header,
        inferTypes: csv?.infer_types,
      },
      json: { maxDepth: this.config.json?.max_depth },
      xlsx: {
        sheet: this.config.xlsx?.sheet,
        maxInflatedBytes: this.config.xlsx?.max_inflated_bytes,
        maxSharedStringsBytes: this.config.xlsx?.max_shared_strings_bytes,
      },
      xml: { recordTag: this.config.xml?.record_tag, maxBytes: this.config.xml?.max_bytes },
    };
  }

  /** Awaits a flow credit before each batch; completes when the file ends or `ctx.signal` aborts. */
  read(partition: string, from: Position | undefined, ctx: ReadContext): Observable<Batch> {
    return new Observable<Batch>((subscriber) => {
      const stop = new AbortController();
      this.reads.add(stop);
      const onAbort = () => stop.abort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const run = async () => {
        const file = localFileSource(partition);
        const { size } = await file.stat();
        const chunks = readRecords(file, formatOf(this.config, partition), this.options(partition, from, ctx, stop.signal));
        for await (const chunk of chunks) {
          if (!(await acquireUnlessAborted(ctx.flow, stop.signal))) break;
          const offset = (chunk.position as { offset?: unknown }).offset;
          subscriber.next({
            data: chunk.data,
            meta: {
              stream: this.ctx.node,
              partition,
              position: chunk.position,
              kind: 'records',
              deadLetters: chunk.deadLetters,
              // Text formats resume at a byte offset, which is also how far through the file we are.
              ...(typeof offset === 'number' && size > 0 ? { progress: { done: offset, total: size } } : {}),
            },
          });
        }
      };
      run()
        .then(
          () => subscriber.complete(),
          (error: unknown) =>
            subscriber.error(
              isSluiceError(error)
                ? error
                : new SluiceError('SLUICE_SOURCE_FAILED', `reading ${partition}: ${errorMessage(error)}`, { cause: error }),
            ),
        )
        .finally(() => {
          ctx.signal.removeEventListener('abort', onAbort);
          this.reads.delete(stop);
        });
      return () => stop.abort();
    });
  }

  /** Files need no acknowledgement: the checkpointed position is all a resume needs. */
  async commit(): Promise<void> {}

  /** Ends the reads still in progress; each closes its file as it stops. */
  async close(): Promise<void> {
    for (const stop of this.reads) stop.abort();
  }
}
