import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import { SluiceError } from './errors.js';

function refused(at: string, message: string): SluiceError {
  return new SluiceError('SLUICE_FORBIDDEN', `${at}: ${message}`, { issues: [{ path: at, message }] });
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Where `path` really is: symlinks followed, also dangling ones (a write through them would
 * create their target), and a missing tail (a file about to be created) kept as named.
 */
async function realTarget(path: string, hops = 0): Promise<string> {
  const info = await lstat(path).catch(() => undefined);
  if (info?.isSymbolicLink()) {
    if (hops >= 32) throw new Error(`too many symbolic links at ${path}`);
    return realTarget(resolve(dirname(path), await readlink(path)), hops + 1);
  }
  if (info) return realpath(path);
  const parent = dirname(path);
  if (parent === path) return path;
  return join(await realTarget(parent, hops), basename(path));
}

/**
 * Resolves a path a request chose inside a datasource's root directory, or refuses it
 * (SLUICE_FORBIDDEN naming `at`). Refused: absolute paths, URLs (`file://`), `..` segments,
 * glob patterns, a root that is not a directory, and any path whose real location (symlinks
 * followed, for the target and each existing ancestor) lies outside the root's real location.
 * Returns the real path (with the request's trailing separator), so what is opened is what was checked.
 */
export async function confinePath(root: string, requested: string, at: string): Promise<string> {
  if (isAbsolute(requested) || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(requested))
    throw refused(at, 'must be a path relative to the datasource directory, not an absolute path or URL');
  if (requested.split(/[/\\]/).includes('..')) throw refused(at, "must not contain '..'");
  if (isDynamicPattern(requested)) throw refused(at, 'must name a file or directory, not a pattern');
  const realRoot = await realpath(resolve(root)).catch(() => undefined);
  if (!realRoot || !(await stat(realRoot)).isDirectory())
    throw refused(at, 'the datasource is not a directory: a request cannot choose another path in it');
  const target = await realTarget(join(realRoot, requested)).catch(() => undefined);
  if (!target || !inside(realRoot, target)) throw refused(at, 'resolves outside the datasource directory');
  // A trailing separator means a directory (a parquet target): kept.
  return /[/\\]$/.test(requested) && target !== realRoot ? `${target}${sep}` : target;
}
