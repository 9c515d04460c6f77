import { scoped } from '../../core/config-scope.js';
import { Type, type Static } from '@sinclair/typebox';
import { resilienceSchema } from '../kit/resilience.js';

/**
 * Config of the `postgresql` connector, one schema for its source and sink. Connection by `url`
 * or by the seed's `host`/`port`/`user`/`password`/`database` fields.
 */
export const postgresConfigSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        description: 'Connection URL, e.g. postgres://user@host:5432/db; use ${env:NAME} for secrets',
        examples: ['${env:PGURL}'],
      }),
    ),
    host: Type.Optional(Type.String({ description: 'Server host (when no url)', examples: ['postgres.example.com'] })),
    resilience: Type.Optional(resilienceSchema),
    max_connections: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 20,
      description:
        'Read connections this process opens to the server, database and user at most, shared by every source node and lookup reading it (a pool); a read waits for a free one',
    }),
    port: Type.Optional(Type.Integer({ description: 'Server port (when no url)', default: 5432, examples: [5432] })),
    user: Type.Optional(Type.String({ description: 'User name (when no url)', examples: ['sluice'] })),
    password: Type.Optional(Type.String({ description: 'Password; use ${env:NAME}', secret: true, examples: ['${env:PGPASSWORD}'] })),
    database: Type.Optional(Type.String({ description: 'Database name (when no url)', examples: ['warehouse'] })),
    mode: Type.Union([Type.Literal('query'), Type.Literal('incremental'), Type.Literal('cdc')], {
      description: 'Source mode: query (bounded read of a table or query), incremental (watermark column + key), cdc (logical replication)',
      default: 'query',
    }),
    table: Type.Optional(
      Type.String({ request: true, description: 'Table to read or write, optionally schema-qualified', examples: ['public.orders'] }),
    ),
    query: Type.Optional(
      Type.String({
        request: true,
        description: 'Query for the query source; parameters as $1, $2 (never interpolated)',
        examples: ['select * from orders where region = $1'],
      }),
    ),
    params: Type.Optional(
      Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
        request: true,
        description: 'Values of the query parameters',
        examples: [['eu-west']],
      }),
    ),
    parallelism: Type.Integer({
      request: true,
      minimum: 1,
      maximum: 64,
      description: 'query: read a table in this many key ranges, one partition each (single integer primary key)',
      default: 1,
    }),
    batch_size: Type.Optional(
      Type.Integer({ request: true, minimum: 1, description: 'Rows per batch (default: the topology batch size)', examples: [10000] }),
    ),
    key: Type.Optional(
      Type.Array(Type.String(), {
        request: true,
        minItems: 1,
        description: 'Key columns (default: the primary key of the table, or the key declared by the batch)',
        examples: [['order_id']],
      }),
    ),
    ...scoped(
      { role: 'source', mode: 'incremental' },
      {
        cursor_column: Type.Optional(
          Type.String({ description: 'incremental: timestamp (or other increasing) column of the watermark', examples: ['updated_at'] }),
        ),
        poll_interval_ms: Type.Optional(
          Type.Integer({
            minimum: 10,
            description: 'incremental: poll again after this long once caught up; unset = complete when caught up',
            examples: [5000],
          }),
        ),
      },
    ),
    ...scoped(
      { role: 'source', mode: 'cdc' },
      {
        tables: Type.Optional(
          Type.Array(Type.String(), {
            description: 'cdc: tables of the publication when it is created (default: all tables)',
            examples: [['public.orders', 'public.customers']],
          }),
        ),
        slot: Type.String({
          description: 'cdc: replication slot name',
          default: 'sluice',
          pattern: '^[a-z0-9_]{1,63}$',
          examples: ['orders_cdc'],
        }),
        publication: Type.String({
          description: 'cdc: publication name (created when missing)',
          default: 'sluice',
          examples: ['orders_cdc'],
        }),
        snapshot: Type.Union([Type.Literal('initial'), Type.Literal('never')], {
          description: 'cdc: read the tables in the snapshot exported by the slot creation (initial), or only stream changes (never)',
          default: 'initial',
        }),
        on_slot_lost: Type.Union([Type.Literal('fail'), Type.Literal('resnapshot')], {
          description:
            'cdc: when the checkpointed slot was dropped or invalidated, fail with a clear error, or create it again and snapshot again',
          default: 'fail',
        }),
        heartbeat_ms: Type.Integer({
          minimum: 100,
          description: 'cdc: when idle, emit an empty batch this often so the slot keeps advancing',
          default: 10_000,
        }),
        cdc_order: Type.Union([Type.Literal('commit'), Type.Literal('table')], {
          description:
            'cdc: commit (every change in commit order across tables: a transaction touching several tables becomes consecutive batches), ' +
            'or table (changes flushed together are grouped per table: fewer, larger batches, order kept per table only; positions stay at commit boundaries)',
          default: 'commit',
        }),
        max_batch_delay_ms: Type.Integer({
          minimum: 1,
          description: 'cdc: emit a partial batch once changes have waited this long',
          default: 200,
        }),
      },
    ),
    ...scoped(
      { role: 'sink' },
      {
        write_mode: Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], {
          description:
            'Sink: append rows, replace the table atomically at the end, or upsert by key (changelog batches always apply by key)',
          default: 'append',
          request: true,
        }),
        table_map: Type.Optional(
          Type.Record(Type.String(), Type.String(), {
            description:
              'Sink: route each batch by its source table (`sluice.table` metadata, else its stream) to a target table; keys as `schema.table` or `table`',
            examples: [{ 'public.orders': 'replica.orders' }],
          }),
        ),
        target_schema: Type.Optional(
          Type.String({
            description:
              'Sink: route each batch to the table of the same name as its source table in this schema (when `table_map` does not name it)',
            examples: ['replica'],
          }),
        ),
        create_table: Type.Boolean({
          request: true,
          description: 'Sink: create the table from the first batch schema when missing',
          default: false,
        }),
        add_columns: Type.Boolean({ description: 'Sink: add columns that appear in batches but not in the table', default: true }),
        lock_timeout_ms: Type.Integer({
          minimum: 0,
          description:
            'Sink: a write that waits this long for a lock another session holds on the table fails (retriable); 0 waits without limit',
          default: 60_000,
        }),
        statement_timeout_ms: Type.Integer({
          minimum: 0,
          description: 'Sink: a write statement (a COPY, a merge, the swap of a replace) that runs this long fails; 0 sets no limit',
          default: 3_600_000,
        }),
      },
    ),
  },
  { additionalProperties: false },
);

export type PostgresConfig = Static<typeof postgresConfigSchema>;
