import { TimestampMicrosecond, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { textFormatter } from '../../../src/connectors/postgresql/pg-text.js';

describe('textFormatter', () => {
  it('formats microsecond timestamps of a sliced vector from the right rows', () => {
    const micros = [1_000_001, 2_000_002, null, 4_000_004, 5_000_005];
    const vector = vectorFromArray(
      micros.map((m) => (m === null ? null : m / 1000)),
      new TimestampMicrosecond(),
    );
    const whole = textFormatter(vector);
    const sliced = textFormatter(vector.slice(2, 5));
    expect([0, 1, 2].map((r) => sliced(r))).toEqual([whole(2), whole(3), whole(4)]);
    expect(sliced(0)).toBeNull();
    expect(whole(3)).toBe('1970-01-01 00:00:04.000004');
  });
});
