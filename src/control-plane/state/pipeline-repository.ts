import { SluiceError } from '../../core/errors.js';
import type { PipelineDocument } from '../../pipeline/pipeline-schema.js';
import type { Database } from './database.js';
import { iso } from './datasource-repository.js';

export interface PipelineRecord {
  pipeline_id: string;
  version: number;
  enabled: boolean;
  schedule: string | null;
  document: PipelineDocument;
  created_at: string;
  updated_at: string;
}

export interface PipelineVersion {
  version: number;
  created_by: string | null;
  created_at: string;
  document: PipelineDocument;
}

const SELECT = `select p.pipeline_id, p.current_version as version, p.enabled, p.schedule, v.document, p.created_at, p.updated_at
  from pipelines p join pipeline_versions v on v.pipeline_id = p.pipeline_id and v.version = p.current_version`;

/** Pipelines and their versions: every update adds a version; the current one is what runs. */
export class PipelineRepository {
  constructor(private readonly db: Database) {}

  async create(document: PipelineDocument, actor: string): Promise<PipelineRecord> {
    const inserted = await this.db.query(
      `insert into pipelines (pipeline_id, current_version, enabled, schedule) values ($1, 0, $2, $3)
       on conflict (pipeline_id) do nothing returning pipeline_id`,
      [document.pipeline_id, document.enabled ?? true, document.schedule ?? null],
    );
    if (inserted.length === 0) {
      throw new SluiceError('SLUICE_CONFLICT', `pipeline '${document.pipeline_id}' already exists; update it with PUT`, {
        issues: [{ path: 'body.pipeline_id', message: 'already exists' }],
      });
    }
    return this.addVersion(document.pipeline_id, document, actor);
  }

  /** Stores a new version and makes it current. */
  async addVersion(pipelineId: string, document: PipelineDocument, actor: string): Promise<PipelineRecord> {
    const [row] = await this.db.query<{ version: number }>(
      `insert into pipeline_versions (pipeline_id, version, document, created_by)
       select $1, coalesce(max(version), 0) + 1, $2, $3 from pipeline_versions where pipeline_id = $1
       returning version`,
      [pipelineId, JSON.stringify(document), actor],
    );
    await this.db.query(
      'update pipelines set current_version = $2, enabled = $3, schedule = $4, updated_at = now() where pipeline_id = $1',
      [pipelineId, row.version, document.enabled ?? true, document.schedule ?? null],
    );
    return (await this.get(pipelineId))!;
  }

  async get(pipelineId: string): Promise<PipelineRecord | undefined> {
    const [row] = await this.db.query<PipelineRecord>(`${SELECT} where p.pipeline_id = $1`, [pipelineId]);
    return row ? normalize(row) : undefined;
  }

  async require(pipelineId: string): Promise<PipelineRecord> {
    const found = await this.get(pipelineId);
    if (!found) throw notFound(pipelineId);
    return found;
  }

  async list(): Promise<PipelineRecord[]> {
    return (await this.db.query<PipelineRecord>(`${SELECT} order by p.pipeline_id`)).map(normalize);
  }

  async versions(pipelineId: string): Promise<PipelineVersion[]> {
    await this.require(pipelineId);
    const rows = await this.db.query<PipelineVersion>(
      'select version, created_by, created_at, document from pipeline_versions where pipeline_id = $1 order by version',
      [pipelineId],
    );
    return rows.map((r) => ({ ...r, created_at: iso(r.created_at) }));
  }

  async version(pipelineId: string, version: number): Promise<PipelineVersion> {
    const [row] = await this.db.query<PipelineVersion>(
      'select version, created_by, created_at, document from pipeline_versions where pipeline_id = $1 and version = $2',
      [pipelineId, version],
    );
    if (!row) {
      throw new SluiceError('SLUICE_NOT_FOUND', `pipeline '${pipelineId}' has no version ${version}`, {
        issues: [{ path: 'body.version', message: `no version ${version}` }],
      });
    }
    return { ...row, created_at: iso(row.created_at) };
  }

  async delete(pipelineId: string): Promise<boolean> {
    return (await this.db.query('delete from pipelines where pipeline_id = $1 returning pipeline_id', [pipelineId])).length > 0;
  }
}

export function notFound(pipelineId: string): SluiceError {
  return new SluiceError('SLUICE_NOT_FOUND', `no pipeline '${pipelineId}'`, {
    issues: [{ path: 'params.pipeline_id', message: `pipeline '${pipelineId}' not found` }],
  });
}

function normalize(row: PipelineRecord): PipelineRecord {
  return { ...row, created_at: iso(row.created_at), updated_at: iso(row.updated_at) };
}
