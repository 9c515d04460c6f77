import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { AuditRepository } from './audit-repository.js';
import { openDatabase, type Database } from './database.js';
import { DatasourceRepository } from './datasource-repository.js';
import { migrate } from './migrations.js';
import { PipelineRepository } from './pipeline-repository.js';
import { RunRepository } from './run-repository.js';
import { SecretBox } from './secret-box.js';

export interface StateOptions {
  /** PostgreSQL URL (`SLUICE_DATABASE_URL`); embedded PGlite when unset. */
  databaseUrl?: string;
  /** Directory of the embedded database and the development secret key; PGlite in memory when unset. */
  stateDir?: string;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
}

/** Every repository of the control plane over one migrated database. */
export interface StateStore {
  db: Database;
  datasources: DatasourceRepository;
  pipelines: PipelineRepository;
  runs: RunRepository;
  audit: AuditRepository;
  close(): Promise<void>;
}

/** Opens and migrates the state database and marks runs a previous process left running as interrupted. */
export async function openStateStore(options: StateOptions): Promise<StateStore> {
  const db = await openDatabase({ url: options.databaseUrl, dataDir: options.stateDir ? join(options.stateDir, 'db') : undefined });
  await migrate(db);
  const box = SecretBox.fromEnvironment(options.env ?? process.env, join(options.stateDir ?? '.sluice', 'secret.key'), options.logger);
  const runs = new RunRepository(db);
  const interrupted = await runs.markInterrupted();
  if (interrupted > 0) options.logger.warn({ interrupted }, 'runs left in progress by a previous process were marked interrupted');
  return {
    db,
    datasources: new DatasourceRepository(db, box),
    pipelines: new PipelineRepository(db),
    runs,
    audit: new AuditRepository(db),
    close: () => db.close(),
  };
}
