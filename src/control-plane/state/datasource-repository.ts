import { SluiceError } from '../../core/errors.js';
import type { Database } from './database.js';
import type { SecretBox } from './secret-box.js';
import { isSecretField, publicConfig } from './secret-fields.js';
import { rememberSecret } from '../../core/secrets.js';

export interface DatasourceRecord {
  name: string;
  type: string;
  /** The config with secrets removed: the only form that ever leaves the server. */
  public_config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

interface Row extends DatasourceRecord {
  config_sealed: string;
}

/** Connected datasources; each config is stored sealed, with a secret-free copy for display. */
export class DatasourceRepository {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  async upsert(name: string, type: string, config: Record<string, unknown>): Promise<DatasourceRecord> {
    rememberSecrets(config);
    const { config: shown } = publicConfig(config);
    const [row] = await this.db.query<Row>(
      `insert into datasources (name, type, config_sealed, public_config) values ($1, $2, $3, $4)
       on conflict (name) do update set type = excluded.type, config_sealed = excluded.config_sealed,
         public_config = excluded.public_config, updated_at = now()
       returning name, type, public_config, created_at, updated_at`,
      [name, type, this.box.seal(config), JSON.stringify(shown)],
    );
    return normalize(row);
  }

  async list(): Promise<DatasourceRecord[]> {
    const rows = await this.db.query<Row>('select name, type, public_config, created_at, updated_at from datasources order by name');
    return rows.map(normalize);
  }

  async get(name: string): Promise<DatasourceRecord | undefined> {
    const [row] = await this.db.query<Row>('select name, type, public_config, created_at, updated_at from datasources where name = $1', [name]);
    return row ? normalize(row) : undefined;
  }

  /** The full config, secrets included, for connecting: never to be returned by a route. */
  async resolve(name: string): Promise<{ type: string; config: Record<string, unknown> }> {
    const [row] = await this.db.query<Row>('select type, config_sealed from datasources where name = $1', [name]);
    if (!row) {
      throw new SluiceError('SLUICE_NOT_FOUND', `no datasource named '${name}' is connected`, { issues: [{ path: 'source_name', message: `datasource '${name}' not found` }] });
    }
    const config = this.box.open<Record<string, unknown>>(row.config_sealed);
    rememberSecrets(config);
    return { type: row.type, config };
  }

  async delete(name: string): Promise<boolean> {
    return (await this.db.query('delete from datasources where name = $1 returning name', [name])).length > 0;
  }
}

/** Makes every secret of a config masked in logs and error messages from now on. */
function rememberSecrets(value: unknown, key = ''): void {
  if (typeof value === 'string') {
    if (isSecretField(key)) rememberSecret(value);
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:([^@\s]+)@/i.exec(value)?.[1];
    if (password) rememberSecret(decodeURIComponent(password));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) rememberSecrets(v, k);
  }
}

function normalize(row: Row): DatasourceRecord {
  return { name: row.name, type: row.type, public_config: row.public_config, created_at: iso(row.created_at), updated_at: iso(row.updated_at) };
}

export function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}
