import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Batch } from '../../core/batch.js';
import { SluiceError, errorMessage, isSluiceError } from '../../core/errors.js';
import type { ConnectorContext, Sink, SinkOpenContext } from '../../core/ports.js';
import { encodeCsv, encodeNdjson, encodeParquet, type FormatName } from '../../formats/index.js';
import type { FileConfig } from './config.js';
import { syncDirectory, truncatePartialLine } from './durable.js';
import { formatOf } from './files.js';

const PART = /^part-(\d+)\.parquet$/;
const TEMP = /^\.part-\d+\.parquet\.tmp$/;

function failed(action: string, error: unknown): SluiceError {
  return isSluiceError(error) ? error : new SluiceError('SLUICE_SINK_FAILED', `${action}: ${errorMessage(error)}`, { cause: error });
}

/**
 * Writes batches to files; `write` resolves once the data is fsynced.
 * NDJSON and CSV append to the file at `path`; parquet writes one part file per batch into the
 * directory at `path` (temp name, fsync, rename), numbered on across resumed runs.
 */
export class FileSink implements Sink {
  private readonly format: FormatName;
  private readonly path: string;
  private handle: FileHandle | undefined;
  private csvHeaderPending = false;
  private nextPart = 0;
  private logger: Logger;
  /** Writes run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: FileConfig,
    ctx: ConnectorContext,
  ) {
    this.path = resolve(config.path);
    this.logger = ctx.logger;
    this.format = config.format ?? (/[/\\]$/.test(config.path) ? 'parquet' : formatOf(config, config.path));
    if (this.format === 'xlsx' || this.format === 'xml') {
      throw new SluiceError('SLUICE_CONFIG_INVALID', `the file sink does not write ${this.format} (read-only format)`, {
        issues: [{ path: 'config.format', message: 'use ndjson, csv or parquet for a sink' }],
      });
    }
    if (this.format === 'json') {
      throw new SluiceError('SLUICE_CONFIG_INVALID', 'the file sink writes ndjson, csv or parquet (a JSON array cannot be appended to durably)', {
        issues: [{ path: 'config.format', message: 'use ndjson, csv or parquet for a sink' }],
      });
    }
  }

  /** A fresh overwrite run starts empty; otherwise earlier output is kept (a crash's partial line cut off). */
  async open(ctx: SinkOpenContext): Promise<void> {
    this.logger = ctx.logger;
    const fresh = !ctx.resuming && this.config.mode === 'overwrite';
    try {
      if (this.format === 'parquet') await this.openDirectory(fresh);
      else await this.openFile(fresh);
    } catch (error) {
      throw failed(`opening ${this.path}`, error);
    }
  }

  private async openFile(fresh: boolean): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, fresh ? 'w' : 'a+');
    this.handle = handle;
    if (!fresh) {
      const dropped = await truncatePartialLine(handle);
      if (dropped > 0) this.logger.warn({ path: this.path, bytes: dropped }, 'dropped a partial last line left by an interrupted write');
    }
    const { size } = await handle.stat();
    this.csvHeaderPending = this.format === 'csv' && (this.config.csv?.header ?? true) && size === 0;
    await syncDirectory(dirname(this.path));
  }

  private async openDirectory(fresh: boolean): Promise<void> {
    await mkdir(this.path, { recursive: true });
    let last = -1;
    for (const name of await readdir(this.path)) {
      const part = PART.exec(name);
      if (TEMP.test(name) || (fresh && part)) await rm(join(this.path, name), { force: true });
      else if (part) last = Math.max(last, Number(part[1]));
    }
    this.nextPart = last + 1;
    await syncDirectory(this.path);
  }

  write(batch: Batch): Promise<void> {
    const done = this.queue.then(() => this.writeNow(batch));
    this.queue = done.catch(() => {});
    return done;
  }

  private async writeNow(batch: Batch): Promise<void> {
    if (batch.data.numRows === 0) return;
    try {
      if (this.format === 'parquet') await this.writePart(batch);
      else await this.appendText(batch);
    } catch (error) {
      throw failed(`writing ${this.path}`, error);
    }
  }

  private async appendText(batch: Batch): Promise<void> {
    if (!this.handle) throw new SluiceError('SLUICE_SINK_FAILED', `file sink ${this.path} written before open()`, { retriable: false });
    const csv = this.config.csv;
    const text =
      this.format === 'csv'
        ? encodeCsv(batch.data, { delimiter: csv?.delimiter ?? (this.path.toLowerCase().endsWith('.tsv') ? '\t' : ','), quote: csv?.quote, header: this.csvHeaderPending })
        : encodeNdjson(batch.data);
    await this.handle.appendFile(text);
    await this.handle.sync();
    this.csvHeaderPending = false;
  }

  private async writePart(batch: Batch): Promise<void> {
    const name = `part-${String(this.nextPart).padStart(5, '0')}.parquet`;
    const temp = join(this.path, `.${name}.tmp`);
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(encodeParquet(batch.data, { compression: this.config.compression }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(this.path, name));
    await syncDirectory(this.path);
    this.nextPart++;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle?.close();
    this.handle = undefined;
  }
}
