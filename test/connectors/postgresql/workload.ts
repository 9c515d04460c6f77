import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { randomBytes } from 'node:crypto';
import { prng } from '../../../scripts/prng.js';

export { prng };

/** Three tables of different key shapes, a TOASTed text column and a jsonb column. */
export const WORKLOAD_DDL = `
  create table a (id int primary key, n int, t text, ts timestamptz);
  create table b (id uuid primary key, v numeric, big text, flag bool);
  create table c (k1 int, k2 text, payload jsonb, primary key (k1, k2));`;

export const WORKLOAD_TABLES = ['a', 'b', 'c'];

/** Random text that does not compress, so large values are stored out of line (TOAST). */
function bigText(bytes: number): string {
  return randomBytes(bytes).toString('base64');
}

/**
 * Runs `ops` random inserts, updates and deletes over the three tables in transactions of 1-20
 * statements, some rows loaded with COPY, some updates leaving the TOASTed column unchanged.
 * Returns the number of operations done.
 */
export async function runWorkload(url: string, ops: number, seed: number, idBase = 0): Promise<number> {
  const random = prng(seed);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ids = { a: [] as number[], b: [] as string[], c: [] as [number, string][] };
  let nextA = idBase + 1;
  let nextC = idBase + 1;
  const pick = <T>(list: T[]): T | undefined => (list.length ? list[Math.floor(random() * list.length)] : undefined);
  const remove = <T>(list: T[], item: T) => list.splice(list.indexOf(item), 1);
  let done = 0;
  try {
    while (done < ops) {
      await client.query('begin');
      const size = 1 + Math.floor(random() * 20);
      for (let i = 0; i < size && done < ops; i++, done++) {
        const table = pick(['a', 'b', 'c'])!;
        const roll = random();
        if (table === 'a') {
          const id = pick(ids.a);
          if (roll < 0.5 || id === undefined) {
            await client.query('insert into a values ($1, $2, $3, $4)', [
              nextA,
              Math.floor(random() * 1e6),
              `täxt ${nextA}\t"q"`,
              new Date(Date.now() - random() * 1e10),
            ]);
            ids.a.push(nextA++);
          } else if (roll < 0.8) await client.query('update a set n = n + 1, t = $2 where id = $1', [id, `upd ${random()}`]);
          else {
            await client.query('delete from a where id = $1', [id]);
            remove(ids.a, id);
          }
        } else if (table === 'b') {
          const id = pick(ids.b);
          if (roll < 0.45 || id === undefined) {
            const key = randomBytes(16)
              .toString('hex')
              .replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');
            await client.query('insert into b values ($1, $2, $3, $4)', [
              key,
              `${Math.floor(random() * 1e9)}.${Math.floor(random() * 1e9)}`,
              bigText(random() < 0.3 ? 20_000 : 100),
              random() < 0.5,
            ]);
            ids.b.push(key);
          } else if (roll < 0.7) await client.query('update b set flag = not flag, v = v + 1 where id = $1', [id]);
          else if (roll < 0.85) await client.query('update b set big = $2 where id = $1', [id, bigText(random() < 0.5 ? 30_000 : 50)]);
          else {
            await client.query('delete from b where id = $1', [id]);
            remove(ids.b, id);
          }
        } else {
          const key = pick(ids.c);
          if (roll < 0.1) {
            // A COPY of several rows counts as one operation per row.
            const rows: string[] = [];
            for (let r = 0; r < 5; r++, nextC++) {
              rows.push(`${nextC}\tk${nextC % 7}\t{"copy": ${nextC}}`);
              ids.c.push([nextC, `k${nextC % 7}`]);
            }
            done += 4;
            await new Promise<void>((resolve, reject) => {
              const stream = client.query(copyStreams.from('copy c (k1, k2, payload) from stdin'));
              stream.on('error', reject).on('finish', resolve);
              stream.end(rows.join('\n') + '\n');
            });
          } else if (roll < 0.55 || key === undefined) {
            await client.query('insert into c values ($1, $2, $3)', [nextC, `k${nextC % 7}`, JSON.stringify({ n: random(), s: 'ünï' })]);
            ids.c.push([nextC++, `k${(nextC - 1) % 7}`]);
          } else if (roll < 0.8) await client.query(`update c set payload = payload || '{"u": 1}' where k1 = $1 and k2 = $2`, key);
          else {
            await client.query('delete from c where k1 = $1 and k2 = $2', key);
            remove(ids.c, key);
          }
        }
      }
      await client.query('commit');
    }
  } finally {
    await client.end();
  }
  return done;
}

/** Every row of every workload table as text, in key order: equal dumps mean equal tables. */
export async function dumpTables(url: string): Promise<Record<string, string[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, string[]> = {};
    for (const table of WORKLOAD_TABLES) {
      const { rows } = await client.query<{ r: string }>(`select row_to_json(x)::text as r from ${table} x order by 1`);
      out[table] = rows.map((r) => r.r);
    }
    return out;
  } finally {
    await client.end();
  }
}
