/**
 * Load generator of the soak benchmark, in its own process so its memory is not measured:
 * inserts rows `from..to` into `events` as fast as it can, one transaction per chunk.
 * Usage: insert-load <database url> <from> <to> [chunk rows]
 */
import pg from 'pg';

const [url, fromArg, toArg, chunkArg = '10000'] = process.argv.slice(2);
const [from, to, chunk] = [Number(fromArg), Number(toArg), Number(chunkArg)];

const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  for (let first = from; first <= to; first += chunk) {
    const last = Math.min(to, first + chunk - 1);
    await client.query(`insert into events select g, g % 1000, 'event ' || g, now() from generate_series(${first}, ${last}) g`);
  }
} finally {
  await client.end();
}
