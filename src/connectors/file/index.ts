import { access, constants } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import { SluiceError } from '../../core/errors.js';
import { fileCapabilities } from './capabilities.js';
import { registry } from '../../core/registry.js';
import { FileConfigSchema, type FileConfig } from './config.js';
import { FileSink } from './sink.js';
import { FileSource } from './source.js';
import { matchingFiles } from './files.js';
import { fileConfigRules } from './rules.js';

/** A usable file datasource: the path (file, directory, glob) exists, or its directory does for a target to be written. */
async function checkPath(config: FileConfig): Promise<void> {
  if (isDynamicPattern(config.path)) {
    await matchingFiles(config);
    return;
  }
  const path = resolve(config.path);
  const reachable = await access(path, constants.R_OK).then(
    () => true,
    () =>
      access(dirname(path), constants.W_OK).then(
        () => true,
        () => false,
      ),
  );
  if (!reachable) {
    throw new SluiceError('SLUICE_NOT_FOUND', `neither ${path} nor its directory is accessible`, {
      issues: [{ path: 'config.path', message: 'path and its directory not accessible' }],
    });
  }
}

/** The `file` connector: reads and writes NDJSON, JSON arrays, CSV and Parquet on the local disk. */
export const fileConnector = registry.connector({
  type: 'file',
  description: 'Local files: NDJSON, JSON arrays, CSV and Parquet; a source reads a file, directory or glob, one partition per file.',
  configSchema: FileConfigSchema,
  validate: fileConfigRules,
  createSource: (config, ctx) => new FileSource(config, ctx),
  createSink: (config, ctx) => new FileSink(config, ctx),
  unbounded: () => false,
  check: checkPath,
  ...fileCapabilities,
});

export { FileConfigSchema, type FileConfig } from './config.js';
