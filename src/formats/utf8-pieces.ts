/**
 * Re-cuts a byte stream so that every piece ends on a whole UTF-8 character, holding back a
 * character split across chunks until the rest of it arrives. For consumers that decode each
 * chunk on its own (exceljs does), which would otherwise turn a split character into U+FFFD.
 */
export class Utf8Pieces {
  private carry: Buffer | undefined;

  /** What was held back and `chunk`, less an incomplete character at its end (held back for the next call). */
  next(chunk: Buffer): Buffer {
    const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const end = wholeCharactersEnd(bytes);
    this.carry = end < bytes.length ? Buffer.from(bytes.subarray(end)) : undefined;
    return bytes.subarray(0, end);
  }

  /** What is still held back when the stream ends (bytes of a character it cuts off). */
  rest(): Buffer | undefined {
    const rest = this.carry;
    this.carry = undefined;
    return rest;
  }
}

/** The length of `bytes` without a multi-byte character its end cuts off. */
function wholeCharactersEnd(bytes: Buffer): number {
  // A character is at most 4 bytes: its lead byte is among the last 4.
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    const byte = bytes[i];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + length > bytes.length ? i : bytes.length;
  }
  return bytes.length;
}
