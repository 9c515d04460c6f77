import type { ErrorIssue } from '../../core/errors.js';
import type { ConnectorRole } from '../../core/ports.js';
import { formatFromPath, type FormatName } from '../../formats/index.js';
import type { FileConfig } from './config.js';

/** The format a sink writes: the configured one, parquet part files for a directory path (`out/`), else the extension's. */
export function sinkFormatOf(config: FileConfig): FormatName | undefined {
  return config.format ?? (/[/\\]$/.test(config.path) ? 'parquet' : formatFromPath(config.path));
}

/**
 * What a file config needs beyond its schema: a sink writes a format it can append to durably.
 * A source's format is decided per file it finds (a directory or glob names no extension).
 */
export function fileConfigRules(config: FileConfig, role: ConnectorRole): ErrorIssue[] {
  if (role === 'source') return [];
  const format = sinkFormatOf(config);
  if (!format) return [{ path: 'format', message: `cannot tell the format of ${config.path} from its extension; set format` }];
  if (format === 'xlsx' || format === 'xml')
    return [{ path: 'format', message: `the file sink does not write ${format} (read-only format); use ndjson, csv or parquet` }];
  if (format === 'json')
    return [{ path: 'format', message: 'the file sink writes ndjson, csv or parquet (a JSON array cannot be appended to durably)' }];
  return [];
}
