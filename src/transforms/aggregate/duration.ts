import { Type } from '@sinclair/typebox';
import { SluiceError } from '../../core/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in config: milliseconds, or text such as `500ms`, `30s`, `5m`, `1h`, `7d`. */
export const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' })], {
  description: 'Milliseconds, or a number with a unit: ms, s, m, h, d (e.g. "5m").',
});

/** Milliseconds of a Duration value. */
export function durationMs(value: number | string, path: string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value);
  if (!match)
    throw new SluiceError('SLUICE_CONFIG_INVALID', `${path}: '${value}' is not a duration`, {
      issues: [{ path, message: 'not a duration' }],
    });
  return Number(match[1]) * UNITS[match[2]];
}
