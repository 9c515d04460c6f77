import type { ByteSource } from '../../src/formats/index.js';

/**
 * Bytes held in memory as a {@link ByteSource}, recording what readers ask of it. It hands out
 * plain Uint8Arrays in small pieces, as a network stream would, so readers meet records and
 * characters split across chunks.
 */
export class MemoryByteSource implements ByteSource {
  /** The offset of each `open()`. */
  readonly opens: number[] = [];
  /** Each `readRange()` as `[offset, length]`. */
  readonly ranges: [number, number][] = [];
  /** Makes the range read of this index (0 is the first) fail, as a dropped connection would. */
  failRead: number | undefined;
  /** Makes a stream fail, as a dropped connection would, once it reaches this offset. */
  failStreamAt: number | undefined;

  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
    private readonly chunkSize = 1000,
  ) {}

  /** Bytes requested by range so far. */
  get bytesRequested(): number {
    return this.ranges.reduce((sum, [, length]) => sum + length, 0);
  }

  async stat() {
    return { size: this.bytes.length, version: 'v1' };
  }

  async *open(offset = 0): AsyncGenerator<Uint8Array> {
    this.opens.push(offset);
    for (let at = offset; at < this.bytes.length; at += this.chunkSize) {
      if (this.failStreamAt !== undefined && at >= this.failStreamAt) throw new Error('connection reset');
      yield Uint8Array.from(this.bytes.subarray(at, Math.min(at + this.chunkSize, this.bytes.length)));
    }
  }

  async readRange(offset: number, length: number): Promise<Uint8Array> {
    if (this.ranges.push([offset, length]) - 1 === this.failRead) throw new Error('connection reset');
    return Uint8Array.from(this.bytes.subarray(offset, offset + length));
  }
}
