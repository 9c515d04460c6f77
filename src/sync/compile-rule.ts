import { connectorDefinition, hasCapability, requireCapability } from '../core/capabilities.js';
import { overlayRequest, requestedFields } from '../core/request-fields.js';
import type { TopologySpec } from '../topology/schema.js';
import type { SyncRule } from './rule-schema.js';

/** Finds a datasource by name: its connector type and stored config (secrets as `${env:NAME}` or resolved). */
export type DatasourceResolver = (name: string) => Promise<{ type: string; config: Record<string, unknown> }>;

/**
 * The config a rule reads (`source`) or writes (`target`) a datasource with: its stored config,
 * references resolved, with the rule's `source_config` / `target_config` laid over it. A rule
 * comes from a request, so only fields the connector lets a request set are accepted
 * (SLUICE_FORBIDDEN naming `<prefix>.<side>_config.<field>` otherwise).
 */
export function ruleSideConfig(
  rule: SyncRule,
  side: 'source' | 'target',
  datasource: { type: string; config: Record<string, unknown> },
  prefix = 'rule',
  env?: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  return overlayRequest(datasource, requestedFields(rule[`${side}_config`], `${prefix}.${side}_config`), env);
}

/**
 * Refuses a rule whose datasource on `side` lacks what the rule asks of it: its source must declare
 * the rule's incremental or cdc mode, and both ends of a bidirectional rule `bidirectional_sync`
 * (SLUICE_CONFIG_INVALID naming `<prefix>.mode` or `<prefix>.<side>`).
 */
export function requireSyncCapabilities(rule: SyncRule, side: 'source' | 'target', type: string, prefix = 'rule'): void {
  const definition = connectorDefinition(type);
  if (rule.bidirectional) requireCapability(definition, 'bidirectional_sync', 'bidirectional sync', `${prefix}.${side}`);
  const mode = rule.mode ?? 'full';
  if (side === 'source' && (mode === 'incremental' || mode === 'cdc')) requireCapability(definition, mode, mode, `${prefix}.mode`);
}

export interface CompileRuleOptions {
  resolve: DatasourceResolver;
  redisUrl: string;
  keyPrefix: string;
  /** Redis hash the run's counters go to. */
  countersKey: string;
  /** Resolves the `${env:NAME}` references of stored datasource configs. */
  env?: NodeJS.ProcessEnv;
}

const OPERATION_LETTERS = { INSERT: 'c', UPDATE: 'u', DELETE: 'd' } as const;

/** The replication slot (and publication) a CDC rule uses unless its source config names one. */
export function cdcSlotName(ruleId: string): string {
  return `sluice_sync_${ruleId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

/** The topology (and checkpoint namespace) a one-way rule runs as. */
export function topologyName(ruleId: string): string {
  return `sync.${ruleId}`;
}

/**
 * Compiles a one-way sync rule to a topology: the source datasource read in the rule's mode,
 * `field_mapping` as a `map` node, and a `sync_target` sink that turns what it reads into a keyed
 * changelog against the rule's state and applies it to the target datasource.
 *
 * - full / snapshot: a complete bounded read; keys not seen are deleted at the end. A source with
 *   `sync_hash_push_down` (a PostgreSQL table) hashes the rows itself and only changed ones are fetched.
 * - incremental: watermark pages by (timestamp column, key), resumed across runs.
 * - cdc: the source's change stream; runs until stopped.
 *
 * The source connector's `syncSourceConfig` hook shapes its config for the mode; a mode it does
 * not declare is refused (`connector 'file' cannot do cdc`).
 *
 * Positions are checkpointed by the engine (Redis for incremental and CDC), not by the spec.
 */
export async function compileRule(rule: SyncRule, options: CompileRuleOptions): Promise<TopologySpec> {
  const source = await options.resolve(rule.source);
  const target = await options.resolve(rule.target);
  const mapping = rule.field_mapping ?? {};
  const inverse = new Map(Object.entries(mapping).map(([from, to]) => [to, from]));
  const toSource = (column: string) => inverse.get(column) ?? column;
  const key = rule.filters?.primary_key;
  const sourceConfig = await ruleSideConfig(rule, 'source', source, 'rule', options.env);
  const mode = rule.mode ?? 'full';

  requireSyncCapabilities(rule, 'source', source.type);
  const definition = connectorDefinition(source.type);
  const readConfig =
    definition.syncSourceConfig?.(sourceConfig, {
      mode,
      slot: cdcSlotName(rule.rule_id),
      ...(key ? { key: key.map(toSource) } : {}),
      ...(mode === 'incremental' ? { cursorColumn: toSource(rule.filters!.timestamp_column!) } : {}),
    }) ?? sourceConfig;

  const operations = (rule.filters?.operations ?? ['INSERT', 'UPDATE', 'DELETE']).map((o) => OPERATION_LETTERS[o]);
  // A full read the source can hash on the server compares hashes and fetches only changed rows.
  const pushdown =
    (mode === 'full' || mode === 'snapshot') && hasCapability(definition, 'sync_hash_push_down')
      ? definition.syncHashSource?.(readConfig)
      : undefined;
  const nodes: TopologySpec['nodes'] = {
    source: pushdown
      ? {
          type: pushdown,
          config: {
            rule_id: rule.rule_id,
            redis_url: options.redisUrl,
            key_prefix: options.keyPrefix,
            counters_key: options.countersKey,
            source: readConfig,
          },
        }
      : { type: source.type, config: readConfig },
  };
  let last = 'source';
  if (Object.keys(mapping).length > 0) {
    nodes.field_mapping = { type: 'map', inputs: [last], config: { field_mapping: mapping } };
    last = 'field_mapping';
  }
  nodes.target = {
    type: 'sync_target',
    inputs: [last],
    config: {
      rule_id: rule.rule_id,
      redis_url: options.redisUrl,
      key_prefix: options.keyPrefix,
      counters_key: options.countersKey,
      ...(key ? { key } : {}),
      track_deletes: (mode === 'full' || mode === 'snapshot') && pushdown === undefined,
      operations,
      target: { type: target.type, config: await ruleSideConfig(rule, 'target', target, 'rule', options.env) },
    },
  };
  return {
    name: topologyName(rule.rule_id),
    description: rule.name,
    settings: { partition_concurrency: 1 },
    nodes,
  };
}
