import { parseConfig } from '../../core/config.js';
import { registry } from '../../core/registry.js';
import { FileConfigSchema } from './config.js';
import { FileSink } from './sink.js';
import { FileSource } from './source.js';

/** The `file` connector: reads and writes NDJSON, JSON arrays, CSV and Parquet on the local disk. */
export const fileConnector = registry.connector({
  type: 'file',
  description: 'Local files: NDJSON, JSON arrays, CSV and Parquet; a source reads a file, directory or glob, one partition per file.',
  configSchema: FileConfigSchema,
  createSource: (config, ctx) => new FileSource(parseConfig(FileConfigSchema, config), ctx),
  createSink: (config, ctx) => new FileSink(parseConfig(FileConfigSchema, config), ctx),
  unbounded: () => false,
});

export { FileConfigSchema, type FileConfig } from './config.js';
