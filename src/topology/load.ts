import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { SluiceError } from '../core/errors.js';

/**
 * Reads a topology document: a `topologies/*.ts` (or .js) module whose default export is a
 * `defineTopology({...})` spec, or a YAML or JSON file with the same schema. TypeScript modules
 * load through tsx, which the `sluice` command registers.
 */
export async function loadTopologyFile(path: string): Promise<unknown> {
  const absolute = resolve(path);
  const extension = extname(absolute).toLowerCase();
  try {
    if (['.ts', '.mts', '.js', '.mjs'].includes(extension)) {
      const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown; topology?: unknown };
      const spec = module.default ?? module.topology;
      if (spec === undefined)
        throw new SluiceError('SLUICE_TOPOLOGY_INVALID', `${path}: no default export (export default defineTopology({...}))`);
      return spec;
    }
    const text = await readFile(absolute, 'utf8');
    if (extension === '.json') return JSON.parse(text);
    if (extension === '.yaml' || extension === '.yml') return parseYaml(text);
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' || code === 'ERR_MODULE_NOT_FOUND' ? 'file not found' : (error as Error).message;
    throw new SluiceError('SLUICE_TOPOLOGY_INVALID', `${path}: ${message}`, { cause: error, issues: [{ path, message }] });
  }
  throw new SluiceError('SLUICE_TOPOLOGY_INVALID', `${path}: unsupported extension '${extension}' (use .ts, .js, .yaml, .yml or .json)`);
}
