import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { WriteTarget } from '../kit/write-target.js';
import { syncPath } from './durable.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

/**
 * The local file system's {@link WriteTarget}: a replace of a file or a directory of part files that
 * readers see whole or not at all. The new content is written to a hidden sibling
 * (`.<name>.replace-staging`), made durable, and renamed over the target only by `publish()`.
 *
 * A directory cannot be renamed over a non-empty one, so its publish takes two renames (target
 * aside to `.<name>.replaced`, staging into place) and removes the old parts last; `recover()`
 * completes a publish a crash interrupted between them.
 */
export class StagedReplace implements WriteTarget {
  /** Where the run writes. */
  readonly staging: string;
  private readonly replaced: string;

  constructor(
    readonly target: string,
    private readonly kind: 'file' | 'directory',
  ) {
    const sibling = (suffix: string) => join(dirname(target), `.${basename(target)}.${suffix}`);
    this.staging = sibling('replace-staging');
    this.replaced = sibling('replaced');
  }

  /**
   * Completes a directory publish a crash interrupted: with the target gone, the staging (written
   * whole before the publish began) goes into place; then the old directory is removed.
   */
  async recover(): Promise<void> {
    if (this.kind !== 'directory' || !(await exists(this.replaced))) return;
    if (!(await exists(this.target))) await rename((await exists(this.staging)) ? this.staging : this.replaced, this.target);
    await rm(this.replaced, { recursive: true, force: true });
    await syncPath(dirname(this.target));
  }

  async begin(resuming: boolean): Promise<void> {
    await mkdir(dirname(this.target), { recursive: true });
    if (resuming && (await exists(this.staging))) return;
    await this.abort();
    if (resuming && (await exists(this.target))) await this.copyTargetToStaging();
    else if (this.kind === 'directory') await mkdir(this.staging);
    await syncPath(dirname(this.target));
  }

  private async copyTargetToStaging(): Promise<void> {
    // Clones where the file system can (copy-on-write), copies otherwise.
    const copy = async (from: string, to: string) => {
      await copyFile(from, to, constants.COPYFILE_FICLONE);
      await syncPath(to);
    };
    if (this.kind === 'file') {
      await copy(this.target, this.staging);
      return;
    }
    await mkdir(this.staging);
    for (const name of await readdir(this.target)) await copy(join(this.target, name), join(this.staging, name));
    await syncPath(this.staging);
  }

  async publish(): Promise<void> {
    const parent = dirname(this.target);
    if (this.kind === 'file') {
      await rename(this.staging, this.target);
      await syncPath(parent);
      return;
    }
    const old = await exists(this.target);
    if (old) await rename(this.target, this.replaced);
    await rename(this.staging, this.target);
    await syncPath(parent);
    if (old) {
      await rm(this.replaced, { recursive: true, force: true });
      await syncPath(parent);
    }
  }

  async abort(): Promise<void> {
    await rm(this.staging, { recursive: true, force: true });
  }
}
