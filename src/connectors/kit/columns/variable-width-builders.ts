import type { Binary, Utf8 } from 'apache-arrow';
import { jsonText } from '../json-text.js';
import { ColumnBuilder, grow } from './column-builder.js';

const encoder = new TextEncoder();

/** Values as byte ranges of one buffer, delimited by offsets (a null row is an empty range). */
abstract class VariableWidthBuilder<T extends Utf8 | Binary> extends ColumnBuilder<T> {
  private offsets = new Int32Array(16);
  protected bytes = new Uint8Array(256);
  protected end = 0;

  /** Writes the value's bytes at `this.end` (room made with `reserve`) and advances `this.end`. */
  protected abstract write(value: unknown): void;

  protected reserve(n: number): void {
    if (this.end + n > this.bytes.length) this.bytes = grow(this.bytes, this.end + n);
  }

  protected appendValue(value: unknown, row: number): void {
    this.write(value);
    this.appendNull(row);
  }

  protected appendNull(row: number): void {
    if (row + 2 > this.offsets.length) this.offsets = grow(this.offsets, row + 2);
    this.offsets[row + 1] = this.end;
  }

  protected flush(length: number): Record<string, unknown> {
    const out = { valueOffsets: this.offsets.subarray(0, length + 1), data: this.bytes.subarray(0, this.end) };
    this.offsets = new Int32Array(16);
    this.bytes = new Uint8Array(256);
    this.end = 0;
    return out;
  }
}

/** UTF-8 text: strings as they are, any other value as its JSON text (see `jsonText`); what JSON cannot hold (a function) as `String()` gives it. */
export class Utf8Builder extends VariableWidthBuilder<Utf8> {
  protected write(value: unknown): void {
    const text = typeof value === 'string' ? value : ((jsonText(value) as string | undefined) ?? String(value));
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    this.reserve(text.length * 3);
    this.end += encoder.encodeInto(text, this.bytes.subarray(this.end)).written;
  }
}

/** Bytes from a `Uint8Array` (Buffers included); a string is stored as its UTF-8 bytes. */
export class BinaryBuilder extends VariableWidthBuilder<Binary> {
  protected write(value: unknown): void {
    const bytes = typeof value === 'string' ? encoder.encode(value) : (value as Uint8Array);
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.end);
    this.end += bytes.length;
  }
}
