import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { map } from 'rxjs';
import { withData } from '../core/batch.js';
import { SluiceError } from '../core/errors.js';
import { registry } from '../core/registry.js';
import { withColumns } from './arrow-ops.js';
import { castVector } from './expression/cast.js';
import { kindOfType, loadColumn, utf8Vector } from './expression/columns.js';

export const MaskRule = Type.Object(
  {
    method: Type.Union([Type.Literal('hash'), Type.Literal('redact'), Type.Literal('partial')]),
    salt: Type.Optional(
      Type.String({
        secret: true,
        description:
          'hash: secret salt (use an ${env:NAME} reference); the same value and salt always give the same hash, so joins still work.',
      }),
    ),
    replacement: Type.Optional(Type.String({ default: '[REDACTED]', description: 'redact: the text every value becomes.' })),
    keep_first: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'partial: characters kept at the start.' })),
    keep_last: Type.Optional(Type.Integer({ minimum: 0, default: 4, description: 'partial: characters kept at the end.' })),
    mask_char: Type.Optional(Type.String({ minLength: 1, maxLength: 1, default: '*' })),
  },
  { additionalProperties: false },
);

export const MaskConfig = Type.Object(
  {
    columns: Type.Record(Type.String({ minLength: 1 }), MaskRule, {
      description: 'Column to masking rule.',
      examples: [
        {
          email: { method: 'hash', salt: '${env:MASK_SALT}' },
          card_number: { method: 'partial', keep_last: 4 },
          notes: { method: 'redact' },
        },
      ],
    }),
  },
  { additionalProperties: false },
);
export type MaskConfig = Static<typeof MaskConfig>;
type Rule = Static<typeof MaskRule>;

/**
 * `mask`: PII masking for non-production copies. `hash` gives the hex SHA-256 of salt + value
 * (deterministic: masked keys still join and group), `redact` replaces every value, `partial`
 * keeps the first/last characters (counted in Unicode code points) and masks the rest. Masked
 * columns become text; nulls stay null. Each distinct value is masked once per batch.
 *
 * @example { type: 'mask', config: { columns: { email: { method: 'hash', salt: '${env:MASK_SALT}' }, ssn: { method: 'partial', keep_last: 4 } } } }
 */
export const maskTransform = registry.transform({
  type: 'mask',
  description: 'Masks PII columns: salted hash, redaction or partial masking.',
  configSchema: MaskConfig,
  create(config) {
    const rules = Object.entries(config.columns).map(([name, rule]) => ({ name, mask: masker(rule) }));
    return map((batch) => withData(batch, maskBatch(batch.data, rules)));
  },
});

function masker(rule: Rule): (value: string) => string {
  switch (rule.method) {
    case 'hash': {
      const salt = rule.salt ?? '';
      return (value) => createHash('sha256').update(salt).update(value).digest('hex');
    }
    case 'redact': {
      const replacement = rule.replacement ?? '[REDACTED]';
      return () => replacement;
    }
    case 'partial': {
      const first = rule.keep_first ?? 0;
      const last = rule.keep_last ?? 4;
      const char = rule.mask_char ?? '*';
      return (value) => {
        const points = Array.from(value);
        // Too short to keep anything without revealing it all: mask every character.
        if (first + last >= points.length) return char.repeat(points.length);
        return points.slice(0, first).join('') + char.repeat(points.length - first - last) + points.slice(points.length - last).join('');
      };
    }
  }
}

function maskBatch(data: RecordBatch, rules: { name: string; mask: (value: string) => string }[]): RecordBatch {
  const n = data.numRows;
  return withColumns(
    data,
    rules.map(({ name, mask }) => {
      const vector = data.getChild(name);
      if (!vector)
        throw new SluiceError(
          'SLUICE_TRANSFORM_FAILED',
          `mask: no column '${name}' (columns: ${data.schema.fields.map((f) => f.name).join(', ')})`,
        );
      const text: Vector = kindOfType(vector.type as DataType) === 'string' ? vector : castVector(vector, 'string');
      const col = loadColumn(text, 'string');
      const values = col.values as string[];
      const cache = new Map<string, string>();
      const out: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        if (col.valid && !col.valid[i]) {
          out[i] = '';
          continue;
        }
        let masked = cache.get(values[i]);
        if (masked === undefined) cache.set(values[i], (masked = mask(values[i])));
        out[i] = masked;
      }
      return { name, vector: utf8Vector(out, col.valid, n) };
    }),
  );
}
