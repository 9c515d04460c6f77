import { afterAll, beforeAll } from 'vitest';
import '../../../src/connectors/postgresql/index.js';
import { sinkContract, sourceContract, type FailureCase } from '../../support/connector-contract.js';
import { closedPort } from '../../support/unresponsive-servers.js';
import { createDatabase, sql } from './pg-helpers.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let tables = 0;
beforeAll(async () => {
  db = await createDatabase('sluice_contract');
});
afterAll(async () => db?.drop());

/** A new table `t<n>` (id, name) holding `count` rows, inserted a few per transaction. */
async function seedTable(count: number, options: { key?: boolean; before?: (table: string) => Promise<void> } = {}): Promise<string> {
  const table = `t${++tables}`;
  await sql(db.url, `create table ${table} (id int ${options.key === false ? '' : 'primary key'}, name text, at timestamptz)`);
  await options.before?.(table);
  for (let from = 0; from < count; from += 3) {
    await sql(
      db.url,
      `insert into ${table} select g, 'row ' || g, timestamptz '2024-01-01' + (g / 2) * interval '1 second' from generate_series($1::int, $2::int) g`,
      [from, Math.min(count, from + 3) - 1],
    );
  }
  return table;
}

/** A server that refuses connections, and a database that does not exist (a config error). */
const connectionFailures = (config: Record<string, unknown>): FailureCase[] => [
  {
    name: 'a server that cannot be reached',
    config: async () => ({ ...config, url: `postgres://postgres@127.0.0.1:${await closedPort()}/postgres` }),
    retriable: true,
  },
  {
    name: 'a database that does not exist',
    config: () => ({ ...config, url: db.url.replace(/\/[^/]+$/, '/sluice_no_such_db') }),
    retriable: false,
  },
  {
    name: 'a role that does not exist',
    config: () => ({ ...config, url: db.url.replace('postgres@', 'sluice_no_such_role@') }),
    retriable: false,
  },
];

sourceContract({
  title: 'postgresql query source',
  type: 'postgresql',
  resumable: false,
  unbounded: false,
  seed: async (count) => ({ url: db.url, mode: 'query', table: await seedTable(count) }),
  failures: connectionFailures({ mode: 'query', table: 'anything' }),
});

sourceContract({
  title: 'postgresql incremental source',
  type: 'postgresql',
  resumable: true,
  unbounded: false,
  seed: async (count) => ({ url: db.url, mode: 'incremental', table: await seedTable(count), cursor_column: 'at' }),
  failures: connectionFailures({ mode: 'incremental', table: 'anything', cursor_column: 'at' }),
});

sourceContract({
  title: 'postgresql cdc source',
  type: 'postgresql',
  resumable: true,
  unbounded: true,
  // A batch ends at a commit: it holds whole transactions.
  batchesWithinSize: false,
  seed: async (count) => {
    let slot = '';
    // The slot exists before the rows are written: they arrive as changes, not as a snapshot.
    const table = await seedTable(count, {
      before: async (name) => {
        // Slot names are the server's, not the database's: the process id keeps concurrent runs apart.
        slot = `contract_${process.pid}_${name}`;
        await sql(db.url, `create publication ${slot} for table ${name}`);
        await sql(db.url, `select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
      },
    });
    return {
      url: db.url,
      mode: 'cdc',
      slot,
      publication: slot,
      tables: [table],
      snapshot: 'never',
      heartbeat_ms: 100,
      max_batch_delay_ms: 20,
    };
  },
  failures: connectionFailures({ mode: 'cdc', slot: 'contract_failure' }),
});

for (const mode of ['append', 'upsert', 'replace'] as const) {
  sinkContract({
    title: `postgresql sink (${mode})`,
    type: 'postgresql',
    // Changelogs apply by key: the keyless append target cannot take them.
    changelogApply: mode !== 'append',
    atomicReplace: mode === 'replace',
    target: async () => {
      // An append target has no key: a run that resumes may write a row twice.
      const table = await seedTable(0, { key: mode !== 'append' });
      return {
        config: { url: db.url, table, write_mode: mode },
        readBack: () => sql(db.url, `select id, name from ${table} order by id, name`),
      };
    },
    failures: connectionFailures({ table: 'anything', write_mode: mode }),
  });
}
