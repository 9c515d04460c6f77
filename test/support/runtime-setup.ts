import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FileCheckpointStore } from '../../src/state/file-checkpoint-store.js';
import { compileTopology } from '../../src/topology/compile.js';
import { memorySink } from './memory-connector.js';

let seq = 0;

/** A topology with a unique name over the given nodes, its memory dead-letter sink and a file checkpoint store. */
export async function setupTopology(nodes: Record<string, unknown>, settings: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-runtime-'));
  const name = `t${++seq}`;
  const dead = memorySink(`${name}-dead`);
  const topology = compileTopology({
    name,
    settings,
    checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
    dead_letter: { type: 'memory', config: { id: `${name}-dead` } },
    nodes,
  });
  return { topology, dir, name, dead, store: new FileCheckpointStore(join(dir, 'checkpoints')) };
}

/** Waits (up to 5 s) for a condition the run makes true. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
