import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Position } from '../core/batch.js';
import { SluiceError } from '../core/errors.js';
import type { CheckpointStore } from '../core/ports.js';

/**
 * Embedded checkpoint store: one JSON file per topology under a directory. Every put rewrites the
 * file through write-fsync-rename, so a crash leaves either the old or the new file, never half.
 */
export class FileCheckpointStore implements CheckpointStore {
  private readonly cache = new Map<string, Record<string, Position>>();
  /** Writes of one topology file are chained so renames never race. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly directory: string) {}

  async get(topology: string, partition: string): Promise<Position | undefined> {
    return (await this.load(topology))[partition];
  }

  async list(topology: string): Promise<Record<string, Position>> {
    return { ...(await this.load(topology)) };
  }

  async put(topology: string, partition: string, position: Position): Promise<void> {
    await this.update(topology, (all) => {
      all[partition] = position;
    });
  }

  async delete(topology: string, partition: string): Promise<void> {
    await this.update(topology, (all) => {
      delete all[partition];
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  private fileOf(topology: string): string {
    return join(this.directory, `${encodeURIComponent(topology)}.json`);
  }

  private async load(topology: string): Promise<Record<string, Position>> {
    const cached = this.cache.get(topology);
    if (cached) return cached;
    let all: Record<string, Position> = {};
    try {
      all = JSON.parse(await readFile(this.fileOf(topology), 'utf8')) as Record<string, Position>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SluiceError('SLUICE_CHECKPOINT_FAILED', `cannot read checkpoint file ${this.fileOf(topology)}`, {
          cause: error,
          retriable: false,
        });
      }
    }
    this.cache.set(topology, all);
    return all;
  }

  private update(topology: string, change: (all: Record<string, Position>) => void): Promise<void> {
    const previous = this.chains.get(topology) ?? Promise.resolve();
    const next = previous.then(async () => {
      const all = await this.load(topology);
      change(all);
      await this.writeAtomically(this.fileOf(topology), JSON.stringify(all));
    });
    this.chains.set(
      topology,
      next.catch(() => undefined),
    );
    return next;
  }

  private async writeAtomically(file: string, content: string): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    const dir = await open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
