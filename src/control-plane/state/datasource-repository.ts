import { SluiceError } from '../../core/errors.js';
import type { Database } from './database.js';
import type { SecretBox } from './secret-box.js';
import { datasourceSecrets } from './secret-fields.js';
import { rememberSecret } from '../../core/secrets.js';

export interface DatasourceRecord {
  name: string;
  type: string;
  /** The config with secrets removed, as masked when stored (views mask the sealed config afresh). */
  public_config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

interface Row extends DatasourceRecord {
  config_sealed: string;
}

/**
 * Connected datasources; each config is stored sealed, with a secret-free copy for display.
 * An uploaded file's datasource records its uploader, the only one who may replace it by upload.
 */
export class DatasourceRepository {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  /** Connects (or reconnects) a datasource; it then belongs to no upload. */
  async upsert(name: string, type: string, config: Record<string, unknown>): Promise<DatasourceRecord> {
    return (await this.write(name, type, config, null))!;
  }

  /**
   * Connects an uploaded file as a `file` datasource of its uploader: a new name, or a name
   * whose datasource the same uploader uploaded. Undefined, and nothing changed, when the name
   * belongs to anything else (a connected datasource, another uploader's file).
   */
  async upsertUpload(name: string, config: Record<string, unknown>, uploader: string): Promise<DatasourceRecord | undefined> {
    return this.write(name, 'file', config, uploader);
  }

  private async write(
    name: string,
    type: string,
    config: Record<string, unknown>,
    uploader: string | null,
  ): Promise<DatasourceRecord | undefined> {
    const secrets = datasourceSecrets(type, config);
    for (const value of secrets.values) rememberSecret(value);
    // One statement, so two uploads racing for a name cannot both win.
    const onlyOwnUpload = uploader === null ? '' : `where datasources.uploaded_by = excluded.uploaded_by and datasources.type = 'file'`;
    const [row] = await this.db.query<Row>(
      `insert into datasources (name, type, config_sealed, public_config, uploaded_by) values ($1, $2, $3, $4, $5)
       on conflict (name) do update set type = excluded.type, config_sealed = excluded.config_sealed,
         public_config = excluded.public_config, uploaded_by = excluded.uploaded_by, updated_at = now()
         ${onlyOwnUpload}
       returning name, type, public_config, created_at, updated_at`,
      [name, type, this.box.seal(config), JSON.stringify(secrets.masked), uploader],
    );
    return row ? normalize(row) : undefined;
  }

  async list(): Promise<DatasourceRecord[]> {
    const rows = await this.db.query<Row>('select name, type, public_config, created_at, updated_at from datasources order by name');
    return rows.map(normalize);
  }

  async get(name: string): Promise<DatasourceRecord | undefined> {
    const [row] = await this.db.query<Row>('select name, type, public_config, created_at, updated_at from datasources where name = $1', [
      name,
    ]);
    return row ? normalize(row) : undefined;
  }

  /** The full config, secrets included, for connecting: never to be returned by a route. */
  async resolve(name: string): Promise<{ type: string; config: Record<string, unknown> }> {
    const [row] = await this.db.query<Row>('select type, config_sealed from datasources where name = $1', [name]);
    if (!row) {
      throw new SluiceError('SLUICE_NOT_FOUND', `no datasource named '${name}' is connected`, {
        issues: [{ path: 'source_name', message: `datasource '${name}' not found` }],
      });
    }
    const config = this.box.open<Record<string, unknown>>(row.config_sealed);
    for (const value of datasourceSecrets(row.type, config).values) rememberSecret(value);
    return { type: row.type, config };
  }

  async delete(name: string): Promise<boolean> {
    return (await this.db.query('delete from datasources where name = $1 returning name', [name])).length > 0;
  }
}

function normalize(row: Row): DatasourceRecord {
  return {
    name: row.name,
    type: row.type,
    public_config: row.public_config,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}
