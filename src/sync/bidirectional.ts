import type { Logger } from '../core/logger.js';
import { SluiceError } from '../core/errors.js';
import type { KeyEntry, KeyState } from '../state/key-state.js';
import { recordApplied, recoverWrites, writeRecorded, type VersionOf } from './recorded-writes.js';
import type { ConflictPolicy } from './rule-schema.js';
import type { ParkedConflict, SyncStore } from './sync-store.js';
import { conflictResolver } from './conflict-resolvers.js';
import type { AppliedChange, GuardedChange, PgSide, RowValues } from './pg-side.js';

export interface BidirectionalCounts {
  rows_read: number;
  rows_inserted: number;
  rows_updated: number;
  rows_deleted: number;
  rows_unchanged: number;
  conflicts: number;
  writes_to_source: number;
  writes_to_target: number;
  /** Writes skipped because the row changed while the run went on; the next run takes them. */
  deferred: number;
}

export interface BidirectionalContext {
  ruleId: string;
  source: PgSide;
  target: PgSide;
  state: KeyState;
  store: SyncStore;
  policy: ConflictPolicy;
  logger: Logger;
}

interface Planned {
  key: string;
  a: string | undefined;
  b: string | undefined;
}

/**
 * One bidirectional run between two tables. The state holds, per key, the hash of the row both
 * sides had after the last sync. A side whose hash differs from it changed since; a change Sluice
 * wrote itself is recorded in the state in the same step, so it never looks like a change to send
 * back (no echo, no origin column needed). Per key:
 *
 * - both sides equal → nothing to write (the state follows);
 * - only one side changed → its row (or its delete) is written to the other side;
 * - both changed, differently → a conflict, settled by the rule's strategy (or parked: `manual`).
 *
 * Every write is a compare-and-set under row locks: a row changed since it was read is left
 * alone, and the next run sees it as a change (or a conflict). When a crash comes between a
 * write's commit and the state update, the next run records that write before it plans (see
 * `writeRecorded`), so a change made after it is no conflict.
 */
export async function runBidirectional(ctx: BidirectionalContext): Promise<BidirectionalCounts> {
  const counts: BidirectionalCounts = {
    rows_read: 0,
    rows_inserted: 0,
    rows_updated: 0,
    rows_deleted: 0,
    rows_unchanged: 0,
    conflicts: 0,
    writes_to_source: 0,
    writes_to_target: 0,
    deferred: 0,
  };
  await recoverWrites(ctx.state, { source: ctx.source, target: ctx.target }, ctx.logger);
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  counts.rows_read += await ctx.source.scan((page) => page.forEach(([k, h]) => a.set(k, h)));
  counts.rows_read += await ctx.target.scan((page) => page.forEach(([k, h]) => b.set(k, h)));
  const state = new Map<string, KeyEntry>();
  for await (const page of ctx.state.entries()) for (const [k, e] of page) state.set(k, e);
  const parked = await ctx.store.parkedKeys(ctx.ruleId);

  const toTarget: Planned[] = [];
  const toSource: Planned[] = [];
  const conflicts: Planned[] = [];
  const stateSets: Array<[string, KeyEntry]> = [];
  const stateDeletes: string[] = [];
  const unparked: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys(), ...state.keys()])) {
    const ha = a.get(key);
    const hb = b.get(key);
    const s = state.get(key);
    if (ha === hb) {
      if (s?.hash !== ha) {
        if (ha === undefined) stateDeletes.push(key);
        else stateSets.push([key, { hash: ha, version: (s?.version ?? 0) + 1 }]);
      }
      if (parked.has(key)) unparked.push(key);
      counts.rows_unchanged++;
    } else if (parked.has(key)) {
      continue;
    } else if (ha === s?.hash) {
      toSource.push({ key, a: ha, b: hb });
    } else if (hb === s?.hash) {
      toTarget.push({ key, a: ha, b: hb });
    } else {
      conflicts.push({ key, a: ha, b: hb });
    }
  }
  await ctx.state.apply(stateSets, stateDeletes);
  await ctx.store.unpark(ctx.ruleId, unparked);
  counts.conflicts = conflicts.length;

  const settled = await settleConflicts(ctx, conflicts);
  const versionOf = (key: string) => state.get(key)?.version ?? 0;
  await copyRows(ctx, ctx.source, ctx.target, [...toTarget, ...settled.toTarget], counts, versionOf);
  await copyRows(ctx, ctx.target, ctx.source, [...toSource, ...settled.toSource], counts, versionOf);
  await writeMerged(ctx, settled.merged, counts, versionOf);
  ctx.logger.info({ ...counts }, 'bidirectional sync applied');
  return counts;
}

/** Copies the current row (or absence) of each key from one side to the other, guarded by the planned hash. */
async function copyRows(
  ctx: BidirectionalContext,
  from: PgSide,
  to: PgSide,
  planned: Planned[],
  counts: BidirectionalCounts,
  versionOf: VersionOf,
): Promise<void> {
  const toTarget = to === ctx.target;
  for (let i = 0; i < planned.length; i += 2000) {
    const chunk = planned.slice(i, i + 2000);
    const rows = await from.fetch(chunk.map((p) => p.key));
    const changes: GuardedChange[] = chunk.map((p) => ({ key: p.key, values: rows.get(p.key) ?? null, expect: toTarget ? p.b : p.a }));
    const applied = await writeRecorded(ctx.state, to, toTarget ? 'target' : 'source', changes, versionOf);
    counts.deferred += changes.length - applied.length;
    tally(applied, counts, toTarget ? 'writes_to_target' : 'writes_to_source');
  }
}

interface Settled {
  toTarget: Planned[];
  toSource: Planned[];
  merged: Array<{ planned: Planned; values: RowValues | null }>;
}

async function settleConflicts(ctx: BidirectionalContext, conflicts: Planned[]): Promise<Settled> {
  const settled: Settled = { toTarget: [], toSource: [], merged: [] };
  if (conflicts.length === 0) return settled;
  const { strategy } = ctx.policy;
  if (strategy === 'source_wins') return { ...settled, toTarget: conflicts };
  if (strategy === 'target_wins') return { ...settled, toSource: conflicts };

  const keys = conflicts.map((c) => c.key);
  const sourceRows = await ctx.source.fetch(keys);
  const targetRows = await ctx.target.fetch(keys);
  const parked: ParkedConflict[] = [];
  const resolver = strategy === 'custom' ? conflictResolver(ctx.policy.function!) : undefined;
  const tsIndex = strategy === 'latest_timestamp' ? ctx.target.canonical.indexOf(ctx.policy.timestampColumn!) : -1;
  if (strategy === 'latest_timestamp' && tsIndex < 0) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', `latest_timestamp: no column '${ctx.policy.timestampColumn}' is synced`, {
      issues: [{ path: 'rule.conflict_resolution.timestamp_column', message: 'not a synced column' }],
    });
  }
  for (const planned of conflicts) {
    const sourceRow = sourceRows.get(planned.key) ?? null;
    const targetRow = targetRows.get(planned.key) ?? null;
    if (strategy === 'manual') {
      parked.push({
        key: planned.key,
        source: sourceRow && ctx.source.toObject(sourceRow),
        target: targetRow && ctx.target.toObject(targetRow),
        detected_at: new Date().toISOString(),
      });
    } else if (strategy === 'latest_timestamp') {
      (laterOrEqual(sourceRow?.[tsIndex], targetRow?.[tsIndex]) ? settled.toTarget : settled.toSource).push(planned);
    } else {
      const choice = await resolver!({
        rule_id: ctx.ruleId,
        key: planned.key,
        source: sourceRow && ctx.source.toObject(sourceRow),
        target: targetRow && ctx.target.toObject(targetRow),
      });
      if (choice === 'source') settled.toTarget.push(planned);
      else if (choice === 'target') settled.toSource.push(planned);
      else
        settled.merged.push({
          planned,
          values: choice === null ? null : ctx.source.fromObject({ ...choice, ...keyObject(ctx, planned.key) }),
        });
    }
  }
  await ctx.store.parkConflicts(ctx.ruleId, parked);
  return settled;
}

/**
 * A custom resolver's row goes to both sides; the state moves only when both took it. (A crash
 * between the two writes leaves the key a conflict, resolved again by the next run.)
 */
async function writeMerged(
  ctx: BidirectionalContext,
  merged: Settled['merged'],
  counts: BidirectionalCounts,
  versionOf: VersionOf,
): Promise<void> {
  if (merged.length === 0) return;
  const toSource = await ctx.source.apply(merged.map((m) => ({ key: m.planned.key, values: m.values, expect: m.planned.a })));
  const toTarget = await ctx.target.apply(merged.map((m) => ({ key: m.planned.key, values: m.values, expect: m.planned.b })));
  const onSource = new Set(toSource.map((c) => c.key));
  counts.deferred += merged.length * 2 - toSource.length - toTarget.length;
  tally(toSource, counts, 'writes_to_source');
  tally(toTarget, counts, 'writes_to_target');
  await recordApplied(
    ctx.state,
    toTarget.filter((c) => onSource.has(c.key)),
    versionOf,
  );
}

function tally(applied: AppliedChange[], counts: BidirectionalCounts, side: 'writes_to_source' | 'writes_to_target'): void {
  for (const change of applied) {
    if (change.op === '=') continue;
    counts[side]++;
    if (change.op === 'c') counts.rows_inserted++;
    else if (change.op === 'u') counts.rows_updated++;
    else counts.rows_deleted++;
  }
}

function keyObject(ctx: BidirectionalContext, key: string): Record<string, string | null> {
  const values = JSON.parse(key) as (string | null)[];
  return Object.fromEntries(values.map((v, i) => [ctx.source.canonical[i], v]));
}

/**
 * Whether the source's timestamp is the later one (ties go to the source). Numbers compare as
 * numbers; other values (PostgreSQL prints timestamps in UTC, ISO order) as text, which keeps
 * microseconds. A deleted row has no timestamp and loses to a row that still exists.
 */
function laterOrEqual(source: string | null | undefined, target: string | null | undefined): boolean {
  if (source === undefined || source === null) return target === undefined || target === null;
  if (target === undefined || target === null) return true;
  const numeric = /^-?\d+(\.\d+)?$/;
  if (numeric.test(source) && numeric.test(target)) return Number(source) >= Number(target);
  return source >= target;
}
