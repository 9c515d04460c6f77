import { describe, expect, it } from 'vitest';
import { vectorFromArray, Int32 } from 'apache-arrow';
import { jsonText } from '../../../src/connectors/kit/json-text.js';

describe('jsonText', () => {
  it('writes bytes as base64, Buffers included, at any depth', () => {
    expect(jsonText(new Uint8Array([1, 2, 3]))).toBe('"AQID"');
    expect(jsonText(Buffer.from([1, 2, 3]))).toBe('"AQID"');
    expect(jsonText({ blob: Buffer.from('hi'), list: [Buffer.from([255])] })).toBe('{"blob":"aGk=","list":["/w=="]}');
    expect(jsonText(Buffer.from([9, 8, 7, 6]).subarray(1, 3))).toBe('"CAc="');
  });

  it('writes bigints as numbers while exact, else as decimal strings', () => {
    expect(jsonText({ small: 42n, big: 2n ** 60n, negative: -(2n ** 60n) })).toBe(
      '{"small":42,"big":"1152921504606846976","negative":"-1152921504606846976"}',
    );
  });

  it('writes Arrow values through toJSON and dates as ISO 8601', () => {
    expect(jsonText({ v: vectorFromArray([1, 2], new Int32()), at: new Date(0) })).toBe('{"v":[1,2],"at":"1970-01-01T00:00:00.000Z"}');
  });
});
