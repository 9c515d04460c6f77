import { Type, type Static } from '@sinclair/typebox';
import type { RecordBatch } from 'apache-arrow';
import { concatMap, defer, from, map, shareReplay, type Observable } from 'rxjs';
import { rowsOf, withData, type Batch } from '../core/batch.js';
import type { DeadLetter } from '../core/dead-letter.js';
import { SluiceError, type ErrorIssue } from '../core/errors.js';
import type { TransformContext } from '../core/ports.js';
import { registry } from '../core/registry.js';
import { indicesOfMask, takeRows, takeVector, withColumns } from './arrow-ops.js';
import { missingMask } from './columns/fill.js';
import { batchOfRows, buildReference, readSource, referenceSourceIssues, type Reference } from './enrich/reference.js';
import { compileExpression } from './expression/index.js';
import { ExpressionString } from './expression/schema.js';

const Names = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]);

const ConnectorSource = Type.Object(
  { type: Type.String({ minLength: 1 }), config: Type.Optional(Type.Unknown()) },
  { request: false, description: 'A connector whose source is read to completion once, e.g. a file or a query (topology files only).' },
);

const DatasourceSource = Type.Object(
  {
    datasource: Type.String({ minLength: 1, description: 'A connected datasource of the control plane.' }),
    query: Type.Optional(Type.String({ minLength: 1 })),
    table: Type.Optional(Type.String({ minLength: 1 })),
    path: Type.Optional(Type.String({ minLength: 1, description: 'A path inside a file datasource directory.' })),
    params: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]))),
  },
  {
    additionalProperties: false,
    datasource: true,
    description: 'A connected datasource read to completion once, with what a request may choose of it (control plane requests).',
  },
);

export const LookupConfig = Type.Object(
  {
    name: Type.Optional(Type.String()),
    source: Type.Optional(Type.Union([ConnectorSource, DatasourceSource])),
    rows: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'Inline reference rows.' })),
    key: { ...Names, description: 'Column(s) of the batch to match.' },
    lookup_key: Type.Optional({ ...Names, description: 'Column(s) of the reference matched against `key`; same names by default.' }),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Reference columns to add; all but the lookup key by default.' }),
    ),
    prefix: Type.Optional(Type.String({ default: '', description: 'Prefix for the added column names.' })),
    on_missing: Type.Optional(
      Type.Union([Type.Literal('null'), Type.Literal('drop'), Type.Literal('dead_letter')], {
        default: 'null',
        description: 'A row without a match: nulls in the added columns, dropped, or dead-lettered.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const EnrichConfig = Type.Object(
  {
    lookups: Type.Optional(Type.Array(LookupConfig)),
    calculated_columns: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), ExpressionString(), {
        description: 'New or replaced columns computed from expressions, after the lookups, in order (later ones see earlier ones).',
        examples: [
          {
            cost_per_cpu: 'case when cpu_count > 0 then monthly_cost / cpu_count end',
            tier: "case when monthly_cost > 1000 then 'high' else 'standard' end",
          },
        ],
      }),
    ),
  },
  { additionalProperties: false },
);
export type EnrichConfig = Static<typeof EnrichConfig>;
type Lookup = Static<typeof LookupConfig>;

const list = (names: string | string[]): string[] => (Array.isArray(names) ? names : [names]);

/**
 * `enrich`: joins each batch against keyed reference datasets (`lookups`), then adds calculated
 * columns. A reference is read once, before the first batch, from inline `rows` or any
 * registered connector's source (read to completion), and indexed by its key; a key appearing
 * twice keeps its first row. Matching is a hash lookup per row on column codes; the added columns
 * are gathered column-wise. Works the same on unbounded input (the reference is static).
 *
 * @example
 * { type: 'enrich', config: {
 *   lookups: [{ source: { type: 'file', config: { path: 'ref/regions.csv' } }, key: 'region', columns: ['geo'], on_missing: 'null' }],
 *   calculated_columns: { cost_per_day: 'monthly_cost / 30' } } }
 */
export const enrichTransform = registry.transform({
  type: 'enrich',
  description: 'Adds columns from keyed reference datasets (lookups) and from expressions.',
  configSchema: EnrichConfig,
  validate: (config) => (config.lookups ?? []).flatMap((lookup, i) => lookupIssues(lookup, `lookups[${i}]`)),
  create(config, ctx) {
    const lookups = (config.lookups ?? []).map((lookup, i) => ({ lookup, path: `config.lookups[${i}]` }));
    const calculated = Object.entries(config.calculated_columns ?? {}).map(([name, text]) => ({
      name,
      expression: compileExpression(text),
    }));

    const references$ = defer(() => from(Promise.all(lookups.map(({ lookup, path }) => loadReference(lookup, ctx, path))))).pipe(
      shareReplay(1),
    );
    return (source: Observable<Batch>) =>
      references$.pipe(
        concatMap((references) =>
          source.pipe(
            map((batch) => {
              let out = batch;
              references.forEach((reference, i) => (out = joinBatch(out, reference, lookups[i].lookup, ctx.node)));
              if (calculated.length === 0) return out;
              let data = out.data;
              for (const { name, expression } of calculated) data = withColumns(data, [{ name, vector: expression.evaluate(data) }]);
              return withData(out, data);
            }),
          ),
        ),
      );
  },
});

/** A lookup reads exactly one reference (a connector source whose config is valid, or inline rows), matched by as many columns as its key. */
function lookupIssues(lookup: Lookup, path: string): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  if (!lookup.source === !lookup.rows) issues.push({ path, message: 'give exactly one of source and rows' });
  // A datasource reference is resolved (and checked) by the control plane before the transform runs.
  else if (lookup.source && !('datasource' in lookup.source)) issues.push(...referenceSourceIssues(lookup.source, `${path}.source`));
  if (list(lookup.key).length !== list(lookup.lookup_key ?? lookup.key).length)
    issues.push({ path: `${path}.lookup_key`, message: 'key and lookup_key differ in length' });
  return issues;
}

async function loadReference(lookup: Lookup, ctx: TransformContext, path: string): Promise<Reference> {
  const source = lookup.source;
  if (source && 'datasource' in source) {
    // The control plane replaces datasource references by connector configs before it runs a transform.
    const message = 'a datasource is resolved by the control plane; in a topology file give the connector type and config';
    throw new SluiceError('SLUICE_CONFIG_INVALID', `${path}.source.datasource: ${message}`, {
      issues: [{ path: `${path}.source.datasource`, message }],
    });
  }
  const batches = lookup.rows ? [batchOfRows(lookup.rows)] : await readSource(source!, ctx, `${path}.source`);
  return buildReference(batches, list(lookup.lookup_key ?? lookup.key), path);
}

function joinBatch(batch: Batch, reference: Reference, lookup: Lookup, node: string): Batch {
  const data = batch.data;
  const keyNames = list(lookup.key);
  const keys = keyNames.map((name) => {
    const vector = data.getChild(name);
    if (!vector)
      throw new SluiceError(
        'SLUICE_TRANSFORM_FAILED',
        `enrich: no key column '${name}' (columns: ${data.schema.fields.map((f) => f.name).join(', ')})`,
      );
    return vector;
  });
  const groups = reference.keys.lookup(keys, data.numRows);
  // SQL join semantics: a null key matches nothing.
  for (const vector of keys) {
    const missing = missingMask(vector);
    for (let i = 0; i < groups.length; i++) if (missing[i]) groups[i] = -1;
  }
  const rows = Int32Array.from(groups, (g) => (g < 0 ? reference.nullRow : reference.rowOfGroup[g]));
  const lookupKeys = new Set(list(lookup.lookup_key ?? lookup.key));
  const names = lookup.columns ?? reference.data.schema.fields.map((f) => f.name).filter((name) => !lookupKeys.has(name));
  const added = names.map((name) => {
    const vector = reference.data.getChild(name);
    if (!vector) throw new SluiceError('SLUICE_TRANSFORM_FAILED', `enrich: the reference has no column '${name}'`);
    return { name: `${lookup.prefix ?? ''}${name}`, vector: takeVector(vector, rows) };
  });
  let out: RecordBatch = withColumns(data, added);
  const onMissing = lookup.on_missing ?? 'null';
  if (onMissing === 'null') return withData(batch, out);
  const matched = Uint8Array.from(groups, (g) => (g < 0 ? 0 : 1));
  const unmatched = indicesOfMask(matched.map((m) => m ^ 1));
  if (unmatched.length === 0) return withData(batch, out);
  out = takeRows(out, indicesOfMask(matched));
  if (onMissing === 'drop') return withData(batch, out);
  const records = rowsOf(takeRows(data, unmatched));
  const letters: DeadLetter[] = records.map((record) => ({
    node,
    reason: `no ${lookup.name ?? 'lookup'} match for ${keyNames.join(', ')}`,
    record,
  }));
  return withData(batch, out, { deadLetters: [...(batch.meta.deadLetters ?? []), ...letters] });
}
