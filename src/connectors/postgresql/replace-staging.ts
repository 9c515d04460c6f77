import { createHash } from 'node:crypto';
import type pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import { ident, qualified, splitTable } from './client.js';

/** What the comment of a resumable staging table says about it. */
const LOADING = 'sluice replace staging: loading';
const PUBLISHED = 'sluice replace staging: published';
/** First key of the advisory locks that mark a resumable staging table as in use by a session. */
const LOCK_CLASS = 0x5157;
/** PostgreSQL truncates longer identifiers (NAMEDATALEN - 1 bytes). */
const MAX_IDENTIFIER_BYTES = 63;

let temporaries = 0;

/**
 * Where a `replace` keeps its rows until `publish` swaps them into the target.
 *
 * A run that cannot resume (no resume key) stages in a temporary table of the sink's session:
 * concurrent runs never share it, and a crash leaves nothing behind. A run that can resume stages
 * in a table named after its resume key and the target, so a resume finds the rows staged before
 * the crash; a fresh run of the same key starts it over, so there is at most one per key. The
 * swap marks that table published in the same transaction, so a resume after a crash between the
 * swap and the deletion of the run's checkpoints knows the replace is done and does not swap
 * again with only what it read since.
 */
export class ReplaceStaging {
  /** The quoted, qualified name of the staging table. */
  readonly name: string;
  private exists = false;
  private state: Promise<string | undefined> | undefined;

  constructor(
    private readonly table: string,
    private readonly resumeKey: string | undefined,
    private readonly resuming: boolean,
  ) {
    this.name = resumeKey === undefined ? `pg_temp.${ident(`sluice_replace_${++temporaries}`)}` : resumableName(table, resumeKey);
  }

  /** Whether the staging table exists for this run (ensured and not dropped by a publish since). */
  get created(): boolean {
    return this.exists;
  }

  /** True when this is the resume of a run whose replace was already published. */
  async published(client: pg.Client): Promise<boolean> {
    if (this.resumeKey === undefined) return false;
    this.state ??= this.claim(client);
    const state = await this.state;
    return this.resuming && state === PUBLISHED;
  }

  /** Creates the staging table like the target unless this run resumes one; returns its name. */
  async ensure(client: pg.Client): Promise<string> {
    if (this.exists) return this.name;
    const create = `create ${this.resumeKey === undefined ? 'temp ' : ''}table ${this.name} (like ${qualified(this.table)} including all)`;
    if (this.resumeKey === undefined) {
      await client.query(create);
    } else {
      this.state ??= this.claim(client);
      const state = await this.state;
      if (!this.resuming || state === undefined) {
        await client.query(`drop table if exists ${this.name}; ${create}; comment on table ${this.name} is '${LOADING}'`);
      }
    }
    this.exists = true;
    return this.name;
  }

  /**
   * Makes the staged rows the target's rows, in the caller's open transaction, and ends staging:
   * a temporary table is dropped, a resumable one emptied and marked published.
   */
  async publish(client: pg.Client): Promise<void> {
    const staging = await this.ensure(client);
    const target = qualified(this.table);
    await client.query(`lock table ${target} in access exclusive mode`);
    await client.query(`delete from ${target}`);
    await client.query(`insert into ${target} select * from ${staging}`);
    await client.query(
      this.resumeKey === undefined ? `drop table ${staging}` : `truncate table ${staging}; comment on table ${staging} is '${PUBLISHED}'`,
    );
    this.exists = this.resumeKey !== undefined;
  }

  /**
   * Takes the session's advisory lock of a resumable staging table (a second run with the same
   * key would otherwise share it) and reads its state: loading, published, or undefined if absent.
   */
  private async claim(client: pg.Client): Promise<string | undefined> {
    const { rows } = await client.query<{ locked: boolean; present: boolean; state: string | null }>(
      `select pg_try_advisory_lock($1, hashtext($2)) as locked, to_regclass($2) is not null as present,
              obj_description(to_regclass($2), 'pg_class') as state`,
      [LOCK_CLASS, this.name],
    );
    const [{ locked, present, state }] = rows;
    if (!locked) {
      throw new SluiceError(
        'SLUICE_SINK_FAILED',
        `postgresql sink ${this.table}: staging table ${this.name} is in use by another run of ${this.resumeKey}`,
        { retriable: false },
      );
    }
    return present ? (state ?? LOADING) : undefined;
  }
}

/** `<schema>.<table prefix>__sluice_<hash of key and table>`, within PostgreSQL's identifier limit. */
function resumableName(table: string, resumeKey: string): string {
  const { schema, name } = splitTable(table);
  const suffix = `__sluice_${createHash('sha256').update(`${resumeKey}\0${table}`).digest('hex').slice(0, 12)}`;
  return `${ident(schema)}.${ident(prefixBytes(name, MAX_IDENTIFIER_BYTES - suffix.length) + suffix)}`;
}

/** The longest prefix of `text` of at most `bytes` UTF-8 bytes, never splitting a character. */
function prefixBytes(text: string, bytes: number): string {
  let prefix = '';
  let used = 0;
  for (const char of text) {
    used += Buffer.byteLength(char);
    if (used > bytes) break;
    prefix += char;
  }
  return prefix;
}
