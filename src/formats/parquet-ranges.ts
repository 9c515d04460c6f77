import { SluiceError, errorMessage, isSluiceError } from '../core/errors.js';
import { race } from '../core/race.js';
import type { ByteSource } from './byte-source.js';

/** An ArrayBuffer holding exactly `bytes`, copied only when they are a view into a larger one. */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  return new Uint8Array(bytes).buffer;
}

/**
 * A byte source as the Blob parquet-wasm reads from: it reads nothing up front and fetches each
 * range it asks for (`slice(a, b).arrayBuffer()`, the only members it uses) by `readRange`, so an
 * object store serves the footer and the row groups as ranged reads.
 *
 * A read that fails, or comes back short, never reaches parquet-wasm: its async reader cannot
 * recover from one (the wasm module traps in a promise callback, which ends the process). The
 * read is left pending instead and {@link failure} rejects; race every parquet-wasm call against it.
 */
export class ParquetRanges {
  /** Rejects with the first read that failed. */
  readonly failure: Promise<never>;
  private fail!: (error: SluiceError) => void;
  private hasFailed = false;

  constructor(private readonly source: ByteSource) {
    this.failure = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failure.catch(() => {}); // handled by whoever races it
  }

  /** Whether a read failed: parquet-wasm then still holds the file in a read that never ends. */
  get failed(): boolean {
    return this.hasFailed;
  }

  /** The whole source, `size` bytes long, as a Blob. */
  blob(size: number): Blob {
    return this.range(0, size);
  }

  /** Settles as `work` does, or rejects as soon as a read fails. */
  guard<T>(work: Promise<T>): Promise<T> {
    return race([work, this.failure]);
  }

  private range(start: number, end: number): Blob {
    const blob = {
      size: end - start,
      slice: (from = 0, to = end - start) => this.range(start + from, Math.min(start + to, end)),
      arrayBuffer: () => this.read(start, end - start),
    };
    return blob as unknown as Blob;
  }

  private async read(offset: number, length: number): Promise<ArrayBuffer> {
    let error: SluiceError;
    try {
      const bytes = await this.source.readRange(offset, length);
      if (bytes.length === length) return ownBuffer(bytes);
      error = new SluiceError(
        'SLUICE_SOURCE_FAILED',
        `${this.source.name} ends at byte ${offset + bytes.length}, before the ${length} bytes at ${offset} that its footer points to: it changed while being read?`,
        {
          retriable: false,
        },
      );
    } catch (cause) {
      error = isSluiceError(cause)
        ? cause
        : new SluiceError('SLUICE_SOURCE_FAILED', `reading ${length} bytes at ${offset} of ${this.source.name}: ${errorMessage(cause)}`, {
            cause,
          });
    }
    this.hasFailed = true;
    this.fail(error);
    return new Promise<never>(() => {});
  }
}
