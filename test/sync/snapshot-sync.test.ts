import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../scripts/prng.js';
import type { SyncEngine } from '../../src/sync/sync-engine.js';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { datasources, dropRedisPrefix, engineFor, uniquePrefix } from './helpers.js';

type Row = { id: number; name: string; qty: number; region: string };

function csv(rows: Row[]): string {
  return ['id,name,qty,region', ...rows.map((r) => `${r.id},${r.name},${r.qty},${r.region}`)].join('\n') + '\n';
}

describe('snapshot sync: two CSV exports diffed into c/u/d', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-snapshot-'));
  const exportPath = join(dir, 'export.csv');
  const changesPath = join(dir, 'changes.ndjson');
  const prefix = uniquePrefix('snapshot');
  let engine: SyncEngine;

  beforeAll(() => {
    engine = engineFor(
      prefix,
      datasources({
        nightly_export: { type: 'file', config: { path: exportPath } },
        changes: { type: 'file', config: { path: changesPath, format: 'ndjson' } },
      }),
    );
  });

  afterAll(async () => {
    await engine?.close();
    await dropRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  const rule = parseSyncRule({
    rule_id: 'nightly',
    name: 'Nightly export',
    source: 'nightly_export',
    target: 'changes',
    mode: 'snapshot',
    filters: { primary_key: ['id'] },
  });

  function changes(): Map<string, string> {
    const lines = readFileSync(changesPath, 'utf8').split('\n').filter(Boolean);
    const byKey = new Map<string, string>();
    for (const line of lines) {
      const event = JSON.parse(line) as { id: number | string; __op: string };
      expect(byKey.has(String(event.id)), `key ${event.id} emitted twice`).toBe(false);
      byKey.set(String(event.id), event.__op);
    }
    return byKey;
  }

  it('emits exactly the inserted, updated and deleted keys of a random workload, round after round', async () => {
    const next = prng(20261127);
    const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)];
    let rows = new Map<number, Row>();
    let nextId = 1;
    for (let i = 0; i < 5000; i++, nextId++)
      rows.set(nextId, {
        id: nextId,
        name: `n${Math.floor(next() * 1e6)}`,
        qty: Math.floor(next() * 1000),
        region: pick(['eu', 'us', 'apac']),
      });
    writeFileSync(exportPath, csv([...rows.values()]));
    const first = await engine.execute(rule);
    expect(first).toMatchObject({ status: 'completed', rows_read: 5000, rows_inserted: 5000, rows_updated: 0, rows_deleted: 0 });
    expect(changes().size).toBe(5000);

    for (let round = 0; round < 3; round++) {
      const before = rows;
      const after = new Map([...before].map(([id, row]) => [id, { ...row }]));
      const truth = new Map<string, string>();
      for (const id of before.keys()) {
        const roll = next();
        if (roll < 0.05) {
          after.delete(id);
          truth.set(String(id), 'd');
        } else if (roll < 0.15) {
          const row = after.get(id)!;
          const field = pick(['name', 'qty', 'region'] as const);
          const changed =
            field === 'name'
              ? { name: `${row.name}x` }
              : field === 'qty'
                ? { qty: row.qty + 1 }
                : { region: row.region === 'eu' ? 'us' : 'eu' };
          after.set(id, { ...row, ...changed });
          truth.set(String(id), 'u');
        } else if (roll < 0.2) {
          after.set(id, { ...after.get(id)! }); // rewritten with the same values: no change
        }
      }
      for (let i = 0; i < 200; i++, nextId++) {
        after.set(nextId, {
          id: nextId,
          name: `n${Math.floor(next() * 1e6)}`,
          qty: Math.floor(next() * 1000),
          region: pick(['eu', 'us', 'apac']),
        });
        truth.set(String(nextId), 'c');
      }
      // The export comes out in another order each time: the diff is by key, not by position.
      writeFileSync(exportPath, csv([...after.values()].sort(() => next() - 0.5)));
      const run = await engine.execute(rule);
      const count = (op: string) => [...truth.values()].filter((o) => o === op).length;
      expect(run).toMatchObject({
        status: 'completed',
        rows_read: after.size,
        rows_inserted: count('c'),
        rows_updated: count('u'),
        rows_deleted: count('d'),
        rows_unchanged: after.size - count('c') - count('u'),
        state_keys: after.size,
      });
      expect(changes()).toEqual(truth);
      rows = after;
    }
  });
});
