import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { SluiceError } from '../../core/errors.js';
import { formatFromPath, type FormatName } from '../../formats/index.js';
import type { FileConfig } from './config.js';

/** The format of one file: the configured one, else the one its extension implies. */
export function formatOf(config: FileConfig, file: string): FormatName {
  const format = config.format ?? formatFromPath(file);
  if (!format)
    throw new SluiceError('SLUICE_CONFIG_INVALID', `cannot tell the format of ${file} from its extension; set config.format`, {
      issues: [{ path: 'config.format', message: 'required for this path' }],
    });
  return format;
}

/** Whether a file in a listed directory belongs to the source (hidden and temp files never do). */
function wanted(name: string, format: FormatName | undefined): boolean {
  if (name.startsWith('.')) return false;
  const implied = formatFromPath(name);
  return format ? implied === format || (implied === undefined && extname(name) === '') : implied !== undefined;
}

/** The files a source path names, absolute and sorted: a file, a directory's files or a glob's matches. */
export async function matchingFiles(config: FileConfig): Promise<string[]> {
  if (isDynamicPattern(config.path)) {
    return (await glob(config.path, { absolute: true, onlyFiles: true })).sort();
  }
  const path = resolve(config.path);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new SluiceError('SLUICE_NOT_FOUND', `file source path does not exist: ${path}`, { cause: error });
    throw new SluiceError('SLUICE_SOURCE_FAILED', `cannot stat ${path}: ${error.message}`, { cause: error });
  });
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && wanted(e.name, config.format))
    .map((e) => join(path, e.name))
    .sort();
}
