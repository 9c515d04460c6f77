import type { Database } from './database.js';
import { iso } from './datasource-repository.js';

export interface AuditEntry {
  actor: string;
  role: string;
  action: string;
  resource: string;
  request_id?: string;
  detail?: unknown;
}

export interface AuditRecord extends Omit<AuditEntry, 'request_id' | 'detail'> {
  id: number;
  at: string;
  request_id: string | null;
  detail: unknown;
}

/** The append-only audit log: who changed what, when, under which request id. */
export class AuditRepository {
  constructor(private readonly db: Database) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db.query('insert into audit_log (actor, role, action, resource, request_id, detail) values ($1, $2, $3, $4, $5, $6)', [
      entry.actor,
      entry.role,
      entry.action,
      entry.resource,
      entry.request_id ?? null,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ]);
  }

  async list(limit: number, resource?: string): Promise<AuditRecord[]> {
    const rows = await this.db.query<AuditRecord>(
      `select id, at, actor, role, action, resource, request_id, detail from audit_log
       where $2::text is null or resource = $2 order by id desc limit $1`,
      [limit, resource ?? null],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), at: iso(r.at) }));
  }
}
