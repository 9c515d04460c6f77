import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../src/core/ports.js';
import { FileCheckpointStore } from '../../src/state/file-checkpoint-store.js';
import { MemoryCheckpointStore } from '../../src/state/memory-checkpoint-store.js';
import { RedisCheckpointStore } from '../../src/state/redis-checkpoint-store.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type Make = () => Promise<{ store: CheckpointStore; reopen: () => CheckpointStore }>;

/** One contract, every durable store: the runtime relies on exactly these behaviours. */
const stores: Array<[string, Make]> = [
  [
    'file',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-ckpt-'));
      return { store: new FileCheckpointStore(dir), reopen: () => new FileCheckpointStore(dir) };
    },
  ],
  [
    'redis',
    async () => {
      const prefix = `sluice:test:${randomUUID()}:`;
      return { store: new RedisCheckpointStore(REDIS_URL, prefix), reopen: () => new RedisCheckpointStore(REDIS_URL, prefix) };
    },
  ],
];

const memory: [string, Make] = [
  'memory',
  async () => {
    const store = new MemoryCheckpointStore();
    return { store, reopen: () => store };
  },
];

describe.each([...stores, memory])('%s checkpoint store', (_name, make) => {
  it('returns undefined for an unknown partition and an empty list for an unknown topology', async () => {
    const { store } = await make();
    expect(await store.get('nothing', 'p')).toBeUndefined();
    expect(await store.list('nothing')).toEqual({});
    await store.close();
  });

  it('stores, overwrites, lists and deletes positions per topology and partition', async () => {
    const { store } = await make();
    const lsn = { lsn: '0/16B3748', tx: 42, tables: ['a', 'b'], done: false, note: null };
    await store.put('topo', 'src/p0', lsn);
    await store.put('topo', 'src/p1', 17);
    await store.put('other', 'src/p0', 'x');
    expect(await store.get('topo', 'src/p0')).toEqual(lsn);
    await store.put('topo', 'src/p1', 18);
    expect(await store.list('topo')).toEqual({ 'src/p0': lsn, 'src/p1': 18 });
    await store.delete('topo', 'src/p0');
    expect(await store.list('topo')).toEqual({ 'src/p1': 18 });
    expect(await store.get('other', 'src/p0')).toBe('x');
    await store.close();
  });
});

describe.each(stores)('%s checkpoint store (durable)', (_name, make) => {
  it('keeps positions across a reopen (durable), with unicode partition names', async () => {
    const { store, reopen } = await make();
    await store.put('tópo/ü', 'files/données.csv', { offset: 123456789, line: 9 });
    await store.close();
    const again = reopen();
    expect(await again.get('tópo/ü', 'files/données.csv')).toEqual({ offset: 123456789, line: 9 });
    await again.close();
  });

  it('keeps the last of many concurrent puts to one partition', async () => {
    const { store, reopen } = await make();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.put('race', 'p', i)));
    await store.close();
    const again = reopen();
    expect(await again.get('race', 'p')).toBe(49);
    await again.close();
  });
});

describe('file checkpoint store', () => {
  it('writes through a temp file and rename: no temp files are left and the file is whole JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-ckpt-'));
    const store = new FileCheckpointStore(dir);
    for (let i = 0; i < 20; i++) await store.put('t', `p${i % 3}`, i);
    await store.close();
    expect(await readdir(dir)).toEqual(['t.json']);
    expect(JSON.parse(await readFile(join(dir, 't.json'), 'utf8'))).toEqual({ p0: 18, p1: 19, p2: 17 });
  });
});
