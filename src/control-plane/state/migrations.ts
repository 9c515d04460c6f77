import type { Database } from './database.js';

/**
 * Schema migrations, applied in order once each. The same SQL runs on PGlite and PostgreSQL;
 * append new entries, never edit applied ones.
 */
const MIGRATIONS: string[][] = [
  [
    `create table datasources (
      name text primary key,
      type text not null,
      config_sealed text not null,
      public_config jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create table pipelines (
      pipeline_id text primary key,
      current_version integer not null,
      enabled boolean not null default true,
      schedule text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create table pipeline_versions (
      pipeline_id text not null references pipelines(pipeline_id) on delete cascade,
      version integer not null,
      document jsonb not null,
      created_by text,
      created_at timestamptz not null default now(),
      primary key (pipeline_id, version)
    )`,
    `create table runs (
      run_id text primary key,
      pipeline_id text not null references pipelines(pipeline_id) on delete cascade,
      version integer not null,
      status text not null,
      trigger text not null,
      error text,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz
    )`,
    `create index runs_by_pipeline on runs (pipeline_id, created_at desc)`,
    `create table step_results (
      run_id text not null references runs(run_id) on delete cascade,
      step_id text not null,
      status text not null,
      attempts integer not null default 0,
      rows_out bigint not null default 0,
      result jsonb,
      error text,
      started_at timestamptz,
      finished_at timestamptz,
      primary key (run_id, step_id)
    )`,
    `create table audit_log (
      id bigserial primary key,
      at timestamptz not null default now(),
      actor text not null,
      role text not null,
      action text not null,
      resource text not null,
      request_id text,
      detail jsonb
    )`,
  ],
  // The principal that uploaded a file datasource (null for connected ones): only it may replace it.
  ['alter table datasources add column uploaded_by text'],
];

/** Brings the schema up to date; safe to call on every start. */
export async function migrate(db: Database): Promise<void> {
  await db.query('create table if not exists sluice_migrations (id integer primary key, applied_at timestamptz not null default now())');
  const applied = new Set((await db.query<{ id: number }>('select id from sluice_migrations')).map((r) => r.id));
  for (const [index, statements] of MIGRATIONS.entries()) {
    const id = index + 1;
    if (applied.has(id)) continue;
    await db.transaction([...statements, `insert into sluice_migrations (id) values (${id})`]);
  }
}
