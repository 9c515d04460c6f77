import { fmix32 } from '../../core/murmur.js';
/**
 * A hash set of byte strings giving each distinct value a dense code, probed straight from Arrow
 * Utf8 buffers: no JS string is created per row (decoding and hashing strings dominated group-by
 * and dedupe on text keys). Values are copied once into an arena and decoded only when asked.
 */
export class BytesTable {
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  private starts = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  /** Open addressing, two ints per slot: [hash, code + 1] (0 = empty), one cache line per probe. */
  private slots = new Int32Array(4096);
  private count = 0;
  private nullCode = -1;

  get size(): number {
    return this.count;
  }

  /** The code of the null value (a code of its own, made on first use). */
  codeOfNull(insert = true): number {
    if (this.nullCode < 0 && insert) this.nullCode = this.append(0, -1, 0, undefined, 0);
    return this.nullCode;
  }

  /** The code of bytes[start, end), adding them when new (or -1 when new and not `insert`). */
  codeOf(bytes: Uint8Array, start: number, end: number, insert = true): number {
    const h = murmur3(bytes, start, end);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const code = slots[2 * slot + 1] - 1;
      if (code < 0) return insert ? this.append(h, end - start, start, bytes, slot) : -1;
      // Most probes are settled by the hash stored next to the code.
      if (slots[2 * slot] === h && this.lengths[code] === end - start && this.equals(code, bytes, start, end - start)) return code;
    }
  }

  /** The text of a code (null for the null code). */
  value(code: number): string | null {
    if (this.lengths[code] < 0) return null;
    return Buffer.from(this.arena.buffer, this.arena.byteOffset + this.starts[code], this.lengths[code]).toString('utf8');
  }

  private equals(code: number, bytes: Uint8Array, start: number, length: number): boolean {
    const arena = this.arena;
    const at = this.starts[code];
    for (let i = 0; i < length; i++) if (arena[at + i] !== bytes[start + i]) return false;
    return true;
  }

  private append(hash: number, length: number, start: number, bytes: Uint8Array | undefined, slot: number): number {
    const code = this.count++;
    if (code >= this.starts.length) {
      this.starts = grow(this.starts, this.starts.length * 2);
      this.lengths = grow(this.lengths, this.lengths.length * 2);
      this.hashes = grow(this.hashes, this.hashes.length * 2);
    }
    this.hashes[code] = hash;
    this.lengths[code] = length;
    this.starts[code] = this.used;
    if (bytes && length > 0) {
      if (this.used + length > this.arena.length) {
        const arena = new Uint8Array(Math.max(this.arena.length * 2, this.used + length));
        arena.set(this.arena.subarray(0, this.used));
        this.arena = arena;
      }
      const arena = this.arena;
      for (let i = 0, at = this.used; i < length; i++) arena[at + i] = bytes[start + i];
      this.used += length;
    }
    if (length >= 0) {
      this.slots[2 * slot] = hash;
      this.slots[2 * slot + 1] = code + 1;
      // Keep the load factor under one half.
      if (this.count * 4 > this.slots.length) this.rehash();
    }
    return code;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let code = 0; code < this.count; code++) {
      if (this.lengths[code] < 0) continue;
      let slot = this.hashes[code] & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = this.hashes[code];
      slots[2 * slot + 1] = code + 1;
    }
    this.slots = slots;
  }
}

/** MurmurHash3 (x86, 32-bit) of bytes[start, end). */
function murmur3(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x9747b28c;
  let i = start;
  for (; i + 3 < end; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = end - i;
  if (rest > 0) {
    let k = bytes[i];
    if (rest > 1) k ^= bytes[i + 1] << 8;
    if (rest > 2) k ^= bytes[i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= end - start;
  return fmix32(h) | 0;
}

function grow(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(size);
  grown.set(array);
  return grown;
}
