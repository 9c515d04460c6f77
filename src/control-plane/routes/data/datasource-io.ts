import type { RecordBatch } from 'apache-arrow';
import { lastValueFrom, takeWhile } from 'rxjs';
import { parseConnectorConfig } from '../../../core/definition-config.js';
import { SluiceError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import type { ConnectorDefinition } from '../../../core/ports.js';
import { registry } from '../../../core/registry.js';
import { recordBatchFromRows } from '../../../core/batch.js';
import type { ResolvedDatasource } from '../../../pipeline/steps/step-context.js';

function connectorOf(ds: ResolvedDatasource, path: string, role: 'source' | 'sink'): ConnectorDefinition {
  const connector = registry.getConnector(ds.type);
  if (!connector || (role === 'source' ? !connector.createSource : !connector.createSink)) {
    throw new SluiceError('SLUICE_UNKNOWN_TYPE', `datasource type '${ds.type}' cannot be ${role === 'source' ? 'read' : 'written'}`, {
      issues: [{ path, message: `type ${ds.type} has no ${role}` }],
    });
  }
  return connector;
}

/**
 * Reads at most `limit` rows from a datasource, partition after partition, then stops the source.
 * `sourceConfig` comes from overlayRequest: stored references resolved, request fields screened.
 */
export async function readBatches(
  ds: ResolvedDatasource,
  sourceConfig: Record<string, unknown>,
  limit: number,
  logger: Logger,
  path = 'body.source_name',
): Promise<RecordBatch[]> {
  const connector = connectorOf(ds, path, 'source');
  const config = parseConnectorConfig(connector, sourceConfig, 'source', 'body');
  const source = connector.createSource!(config, { node: 'read', logger });
  const stop = new AbortController();
  const batches: RecordBatch[] = [];
  let rows = 0;
  try {
    for (const partition of await source.partitions()) {
      if (rows >= limit) break;
      await lastValueFrom(
        source
          .read(partition, undefined, {
            flow: { acquire: async () => undefined },
            signal: stop.signal,
            logger,
            batchSize: Math.min(limit, 10_000),
          })
          .pipe(
            takeWhile((batch) => {
              const take = Math.min(batch.data.numRows, limit - rows);
              if (take > 0) batches.push(take === batch.data.numRows ? batch.data : batch.data.slice(0, take));
              rows += take;
              return rows < limit;
            }),
          ),
        { defaultValue: undefined },
      );
    }
  } catch (error) {
    throw asInputError(error, path);
  } finally {
    stop.abort();
    await source.close();
  }
  return batches;
}

/**
 * Read failures the request caused (a path that does not exist, SQL that does not parse or
 * names unknown columns: SQLSTATE classes 22 and 42) become 4xx errors naming the field.
 */
function asInputError(error: unknown, path: string): unknown {
  if (error instanceof SluiceError && error.httpStatus < 500) {
    return error.issues.length > 0
      ? error
      : new SluiceError(error.code, error.message, { cause: error, issues: [{ path, message: error.message }] });
  }
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|42)[0-9A-Z]{3}$/.test(code)) {
      return new SluiceError('SLUICE_CONFIG_INVALID', cause.message, { cause: error, issues: [{ path, message: cause.message }] });
    }
  }
  return error;
}

/** Writes rows to a datasource through its sink. */
export async function writeRows(
  ds: ResolvedDatasource,
  sinkConfig: Record<string, unknown>,
  rows: Record<string, unknown>[],
  logger: Logger,
): Promise<number> {
  return writeBatches(ds, sinkConfig, [recordBatchFromRows(rows)], logger);
}

/** Writes batches to a datasource through its sink (config from overlayRequest): open, write each, finish (publishes staged writes), close. */
export async function writeBatches(
  ds: ResolvedDatasource,
  sinkConfig: Record<string, unknown>,
  batches: RecordBatch[],
  logger: Logger,
  path = 'body.source_name',
): Promise<number> {
  const connector = connectorOf(ds, path, 'sink');
  const config = parseConnectorConfig(connector, sinkConfig, 'sink', 'body');
  const sink = connector.createSink!(config, { node: 'write', logger });
  let rows = 0;
  try {
    await sink.open?.({ resuming: false, logger });
    for (const [seq, data] of batches.entries()) {
      await sink.write({ data, meta: { stream: 'api', partition: 'api', position: seq, kind: 'records', seq } });
      rows += data.numRows;
    }
    await sink.finish?.();
  } finally {
    await sink.close();
  }
  return rows;
}
