import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Batch } from '../../core/batch.js';
import { SluiceError, errorMessage, isSluiceError } from '../../core/errors.js';
import type { ConnectorContext, Sink, SinkOpenContext } from '../../core/ports.js';
import { csvScanner, encodeCsv, encodeNdjson, encodeParquet, type FormatName } from '../../formats/index.js';
import type { WriteTarget } from '../kit/write-target.js';
import type { FileConfig } from './config.js';
import { syncPath, truncatePartialLine, truncatePartialRecord, writeAt } from './durable.js';
import { sinkFormatOf } from './rules.js';
import { StagedReplace } from './staged-replace.js';

const PART = /^part-(\d+)\.parquet$/;
const TEMP = /^\.part-\d+\.parquet\.tmp$/;

function failed(action: string, error: unknown): SluiceError {
  return isSluiceError(error) ? error : new SluiceError('SLUICE_SINK_FAILED', `${action}: ${errorMessage(error)}`, { cause: error });
}

function invalidTarget(message: string): SluiceError {
  return new SluiceError('SLUICE_CONFIG_INVALID', message, { issues: [{ path: 'config.path', message }] });
}

/**
 * Writes batches to files; `write` resolves once the data is fsynced.
 * NDJSON and CSV append to the file at `path`; parquet writes one part file per batch into the
 * directory at `path` (temp name, fsync, rename), numbered on across resumed runs. Mode `replace`
 * writes all of it to a staging sibling that `finish()` publishes by rename (see {@link StagedReplace}).
 */
export class FileSink implements Sink {
  private readonly format: FormatName;
  private readonly path: string;
  /** The staging of mode replace; in every mode, a publish a crash interrupted is completed at open. */
  private readonly staged: WriteTarget;
  /** Whether the run keeps checkpoints a later run resumes from (then an unpublished staging stays). */
  private resumable = false;
  private published = false;
  private readonly replacing: boolean;
  private handle: FileHandle | undefined;
  /** Bytes of the text file known durable; an append that failed part way is cut back to it. */
  private durableLength = 0;
  private appendInterrupted = false;
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
    this.format = sinkFormatOf(config)!;
    this.staged = new StagedReplace(this.path, this.format === 'parquet' ? 'directory' : 'file');
    this.replacing = config.mode === 'replace';
  }

  private get csvDelimiter(): string {
    return this.config.csv?.delimiter ?? (this.path.toLowerCase().endsWith('.tsv') ? '\t' : ',');
  }

  /** Where batches are written: the staging of a replace, else `path` itself. */
  private get output(): string {
    return this.replacing ? this.staged.staging : this.path;
  }

  /**
   * A fresh overwrite run starts empty; a replace starts an empty staging (a resumed one continues
   * its staging); otherwise earlier output is kept, a crash's partial line cut off.
   */
  async open(ctx: SinkOpenContext): Promise<void> {
    this.logger = ctx.logger;
    this.resumable = ctx.resumeKey !== undefined;
    const fresh = !ctx.resuming && this.config.mode === 'overwrite';
    try {
      await this.staged.recover();
      if (this.replacing) {
        await this.checkReplaceTarget();
        await this.staged.begin(ctx.resuming);
      }
      if (this.format === 'parquet') await this.openDirectory(fresh);
      else await this.openFile(fresh);
    } catch (error) {
      throw failed(`opening ${this.path}`, error);
    }
  }

  /** A replace swaps the whole target, so a directory target may hold nothing but part files. */
  private async checkReplaceTarget(): Promise<void> {
    const info = await stat(this.path).catch(() => undefined);
    if (!info) return;
    if (this.format !== 'parquet') {
      if (info.isDirectory()) throw invalidTarget(`${this.path} is a directory; a ${this.format} replace writes one file`);
      return;
    }
    if (!info.isDirectory()) throw invalidTarget(`${this.path} is not a directory of parquet part files`);
    const foreign = (await readdir(this.path)).filter((name) => !PART.test(name) && !TEMP.test(name));
    if (foreign.length > 0) {
      throw invalidTarget(
        `${this.path} holds files other than part files (${foreign.slice(0, 3).join(', ')}); a replace swaps the whole directory, so give it a directory of its own`,
      );
    }
  }

  private async openFile(fresh: boolean): Promise<void> {
    const path = this.output;
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, fresh ? 'w' : constants.O_RDWR | constants.O_CREAT);
    this.handle = handle;
    if (!fresh) {
      const dropped =
        this.format === 'csv'
          ? await truncatePartialRecord(handle, csvScanner(this.csvDelimiter, this.config.csv?.quote ?? '"'))
          : await truncatePartialLine(handle);
      if (dropped > 0) this.logger.warn({ path, bytes: dropped }, 'dropped a partial last record left by an interrupted write');
    }
    this.durableLength = (await handle.stat()).size;
    this.csvHeaderPending = this.format === 'csv' && (this.config.csv?.header ?? true) && this.durableLength === 0;
    await syncPath(dirname(path));
  }

  private async openDirectory(fresh: boolean): Promise<void> {
    const dir = this.output;
    await mkdir(dir, { recursive: true });
    let last = -1;
    for (const name of await readdir(dir)) {
      const part = PART.exec(name);
      if (TEMP.test(name) || (fresh && part)) await rm(join(dir, name), { force: true });
      else if (part) last = Math.max(last, Number(part[1]));
    }
    this.nextPart = last + 1;
    await syncPath(dir);
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
      throw failed(`writing ${this.output}`, error);
    }
  }

  private async appendText(batch: Batch): Promise<void> {
    if (!this.handle) throw new SluiceError('SLUICE_SINK_FAILED', `file sink ${this.path} written before open()`, { retriable: false });
    const text =
      this.format === 'csv'
        ? encodeCsv(batch.data, { delimiter: this.csvDelimiter, quote: this.config.csv?.quote, header: this.csvHeaderPending })
        : encodeNdjson(batch.data);
    const bytes = Buffer.from(text);
    // What a failed append got onto the disk goes before this one is written, so a retry of the
    // same batch cannot leave its lines twice or glued to a torn one.
    if (this.appendInterrupted) await this.handle.truncate(this.durableLength);
    this.appendInterrupted = true;
    await writeAt(this.handle, bytes, this.durableLength);
    await this.handle.sync();
    this.durableLength += bytes.length;
    this.appendInterrupted = false;
    this.csvHeaderPending = false;
  }

  private async writePart(batch: Batch): Promise<void> {
    const dir = this.output;
    const name = `part-${String(this.nextPart).padStart(5, '0')}.parquet`;
    const temp = join(dir, `.${name}.tmp`);
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(encodeParquet(batch.data, { compression: this.config.compression }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, name));
    await syncPath(dir);
    this.nextPart++;
  }

  /** Publishes a replace once every batch is durable in the staging. */
  async finish(): Promise<void> {
    await this.queue;
    if (!this.replacing) return;
    await this.handle?.close();
    this.handle = undefined;
    try {
      await this.staged.publish();
      this.published = true;
    } catch (error) {
      throw failed(`publishing ${this.path}`, error);
    }
  }

  /** A replace that did not publish keeps its staging only for a run that can resume it. */
  async close(): Promise<void> {
    try {
      await this.queue;
    } finally {
      await this.handle?.close();
      this.handle = undefined;
      if (this.replacing && !this.published && !this.resumable) await this.staged.abort();
    }
  }
}
