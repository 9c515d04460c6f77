/**
 * A set of keys held as 64-bit hashes in one typed array (open addressing), for remembering the
 * keys a full read met without millions of strings on the heap. A vanished key is taken for one
 * that was met only if their 64-bit hashes collide: odds near n / 2^64.
 */
export class KeyHashSet {
  private slots = new Uint32Array(2 * 1024);
  private used = 0;

  add(key: string): void {
    const [a, b] = hashKey(key);
    if (this.used * 2 >= this.slots.length / 2) this.grow();
    this.insert(a, b);
  }

  has(key: string): boolean {
    const [a, b] = hashKey(key);
    const mask = this.slots.length / 2 - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const x = this.slots[2 * i];
      const y = this.slots[2 * i + 1];
      if (x === 0 && y === 0) return false;
      if (x === a && y === b) return true;
    }
  }

  get size(): number {
    return this.used;
  }

  private insert(a: number, b: number): void {
    const mask = this.slots.length / 2 - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const x = this.slots[2 * i];
      const y = this.slots[2 * i + 1];
      if (x === a && y === b) return;
      if (x === 0 && y === 0) {
        this.slots[2 * i] = a;
        this.slots[2 * i + 1] = b;
        this.used++;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.used = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i], old[i + 1]);
  }
}

/** Two 32-bit murmur3-style lanes over the string's UTF-16 code units; never (0, 0), the empty slot. */
function hashKey(key: string): [number, number] {
  let a = 0x2f6b1d93;
  let b = 0x71c5e0a7;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ c, 0x1b873593);
    b = (b << 13) | (b >>> 19);
  }
  a ^= key.length;
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a = (a ^ (a >>> 16)) >>> 0;
  b ^= a;
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = (b ^ (b >>> 16)) >>> 0;
  return a === 0 && b === 0 ? [0, 1] : [a, b];
}
