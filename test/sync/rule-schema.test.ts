import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { conflictPolicy, parseSyncRule } from '../../src/sync/rule-schema.js';

function issuesOf(document: unknown): Array<{ path: string; message: string }> {
  try {
    parseSyncRule(document);
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    return (error as SluiceError).issues;
  }
  throw new Error('expected the rule to be refused');
}

describe('sync rules', () => {
  it("accepts the seed's documents verbatim", () => {
    const cdc = parseSyncRule({
      rule_id: 'policy_changes_cdc',
      name: 'Policy Changes CDC',
      source: 'azure_policy_log',
      target: 'compliance_db',
      mode: 'cdc',
      filters: { change_timestamp: 'last_sync_time', operations: ['INSERT', 'UPDATE', 'DELETE'] },
    });
    expect(cdc.filters).toMatchObject({ change_timestamp: 'last_sync_time' });
    const scheduled = parseSyncRule({
      rule_id: 'azure_to_warehouse',
      name: 'Azure to Warehouse Sync',
      source: 'azure_governance',
      target: 'data_warehouse',
      mode: 'incremental',
      schedule: '0 */6 * * *',
      filters: { timestamp_column: 'last_modified' },
    });
    expect(scheduled).toMatchObject({ bidirectional: false, enabled: true, conflict_resolution: 'source_wins' });
  });

  it('names every offending field', () => {
    const issues = issuesOf({
      rule_id: 'x',
      name: 'x',
      source: 's',
      target: 't',
      mode: 'mirror',
      filters: { primary_key: [] },
      field_mapping: { a: 1 },
    });
    expect(issues.map((i) => i.path).sort()).toEqual(['rule.field_mapping.a', 'rule.filters.primary_key', 'rule.mode']);
    expect(issues.find((i) => i.path === 'rule.mode')!.message).toMatch(/"full", "incremental", "cdc", "snapshot"/);
    expect(issuesOf({ rule_id: 'x', name: 'x', source: 's', target: 't', schedule: 'every tuesday' }).map((i) => i.path)).toEqual([
      'rule.schedule',
    ]);
    expect(issuesOf({ rule_id: 'x', name: 'x', source: 's', target: 't', mode: 'incremental' }).map((i) => i.path)).toEqual([
      'rule.filters.timestamp_column',
    ]);
    expect(
      issuesOf({ rule_id: 'x', name: 'x', source: 's', target: 't', bidirectional: true, conflict_resolution: { strategy: 'custom' } }).map(
        (i) => i.path,
      ),
    ).toEqual(['rule.conflict_resolution.function']);
    expect(
      issuesOf({ rule_id: 'x', name: 'x', source: 's', target: 't', bidirectional: true, conflict_resolution: 'latest_timestamp' }).map(
        (i) => i.path,
      ),
    ).toEqual(['rule.conflict_resolution.timestamp_column']);
  });

  it('reads the conflict policy from its string or object form', () => {
    const base = { rule_id: 'x', name: 'x', source: 's', target: 't', bidirectional: true };
    expect(
      conflictPolicy(parseSyncRule({ ...base, filters: { timestamp_column: 'updated_at' }, conflict_resolution: 'latest_timestamp' })),
    ).toEqual({ strategy: 'latest_timestamp', timestampColumn: 'updated_at' });
    expect(conflictPolicy(parseSyncRule({ ...base, conflict_resolution: { strategy: 'custom', function: 'merge' } }))).toMatchObject({
      strategy: 'custom',
      function: 'merge',
    });
  });
});
