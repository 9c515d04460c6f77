import { describe, expect, it } from 'vitest';
import { Utf8Pieces } from '../../src/formats/utf8-pieces.js';

describe('Utf8Pieces', () => {
  const text = 'aü東😀z';
  const bytes = Buffer.from(text);

  it('gives pieces that each decode on their own, wherever the stream is cut', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let size = 1; size <= bytes.length; size++) {
        const pieces = new Utf8Pieces();
        const decoded: string[] = [];
        const chunks = [
          bytes.subarray(0, cut),
          ...Array.from({ length: Math.ceil((bytes.length - cut) / size) }, (_, i) => bytes.subarray(cut + i * size, cut + (i + 1) * size)),
        ];
        for (const chunk of chunks) decoded.push(pieces.next(chunk).toString('utf8'));
        expect(pieces.rest()).toBeUndefined();
        expect(decoded.join('')).toBe(text);
      }
    }
  });

  it('hands back a character the stream cut off at its end', () => {
    const pieces = new Utf8Pieces();
    expect(pieces.next(bytes.subarray(0, 5)).toString()).toBe('aü');
    expect(pieces.rest()).toEqual(bytes.subarray(3, 5));
  });
});
