import { Value } from '@sinclair/typebox/value';
import { schemaIssues } from '../core/config.js';
import { checkConfig, checkConnectorConfig, configPath } from '../core/definition-config.js';
import { SluiceError, type ErrorIssue } from '../core/errors.js';
import type { ConnectorDefinition, TransformDefinition } from '../core/ports.js';
import { registry } from '../core/registry.js';
import { rememberConfigSecrets, resolveEnvRefs } from '../core/secrets.js';
import { CheckpointConfigSchema, withCheckpointDefaults, type CheckpointConfig } from '../state/checkpoint-config.js';
import { checkSinkCommittedPositions } from './sink-committed-positions.js';
import { envRefPath, envRefRefused } from '../core/request-fields.js';
import { TopologySpecSchema, type NodeSpec, type Settings, type TopologySpec } from './schema.js';

interface CompiledNodeBase {
  name: string;
  type: string;
  config: Record<string, unknown>;
  inputs: string[];
  outputs: string[];
}

export interface CompiledSourceNode extends CompiledNodeBase {
  kind: 'source';
  connector: ConnectorDefinition;
  unbounded: boolean;
}

export interface CompiledTransformNode extends CompiledNodeBase {
  kind: 'transform';
  transform: TransformDefinition;
}

export interface CompiledSinkNode extends CompiledNodeBase {
  kind: 'sink';
  connector: ConnectorDefinition;
}

export type CompiledNode = CompiledSourceNode | CompiledTransformNode | CompiledSinkNode;

export interface CompiledTopology {
  name: string;
  description?: string;
  settings: Settings;
  checkpoint: CheckpointConfig;
  deadLetter: CompiledSinkNode;
  nodes: Map<string, CompiledNode>;
  /** Node names in an order where every node comes after its inputs. */
  order: string[];
  sources: CompiledSourceNode[];
}

export interface CompileOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * `refuse` for topologies built from a request (pipeline steps, sync rules): the datasource
   * configs in them come resolved, and nothing else may name the server's environment.
   */
  envRefs?: 'resolve' | 'refuse';
}

/**
 * Validates a topology spec and compiles it into a DAG ready to run. Every problem found is
 * reported at once, each with the path of the offending field; nothing runs if any is found.
 */
export function compileTopology(input: unknown, options: CompileOptions = {}): CompiledTopology {
  const spec = Value.Default(TopologySpecSchema, structuredClone(input)) as TopologySpec;
  const shapeIssues = schemaIssues(TopologySpecSchema, spec);
  if (shapeIssues.length > 0) throw invalid(shapeIssues);
  const issues: ErrorIssue[] = [];

  let resolved: TopologySpec = spec;
  if (options.envRefs === 'refuse') {
    const refused = envRefPath(spec, '');
    if (refused) issues.push(...envRefRefused(refused.slice(1)).issues);
  } else {
    try {
      resolved = resolveEnvRefs(spec, options.env ?? process.env);
    } catch (error) {
      if (error instanceof SluiceError) issues.push(...error.issues);
      else throw error;
    }
  }

  const settings = Value.Default(TopologySpecSchema.properties.settings, resolved.settings ?? {}) as Settings;
  const checkpoint = withCheckpointDefaults(resolved.checkpoint);
  rememberConfigSecrets(CheckpointConfigSchema, checkpoint);
  const nodes = new Map<string, CompiledNode>();

  for (const [name, node] of Object.entries(resolved.nodes)) {
    const compiled = compileNode(name, node, `nodes.${name}`, issues);
    if (compiled) nodes.set(name, compiled);
  }
  if (Object.keys(resolved.nodes).length === 0)
    issues.push({ path: 'nodes', message: 'a topology needs at least one source and one sink' });

  linkInputs(resolved, nodes, issues);
  const order = topologicalOrder(resolved, issues);
  checkTransformRules(nodes, order, issues);
  // With a node of unknown kind, reachability would only repeat that problem in other words.
  if (nodes.size === Object.keys(resolved.nodes).length) checkReachability(nodes, issues);
  checkSinkCommittedPositions(nodes, issues);

  const deadLetterSpec = resolved.dead_letter ?? {
    type: 'file',
    config: { path: `.sluice/dead-letter/${resolved.name}.ndjson`, format: 'ndjson' },
  };
  const deadLetter = compileNode('dead_letter', { ...deadLetterSpec, inputs: ['*'] }, 'dead_letter', issues) as
    CompiledSinkNode | undefined;

  if (issues.length > 0 || !deadLetter) throw invalid(issues);
  return {
    name: resolved.name,
    description: resolved.description,
    settings,
    checkpoint,
    deadLetter: { ...deadLetter, inputs: [] },
    nodes,
    order,
    sources: [...nodes.values()].filter((n): n is CompiledSourceNode => n.kind === 'source'),
  };
}

function invalid(issues: ErrorIssue[]): SluiceError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new SluiceError('SLUICE_TOPOLOGY_INVALID', `topology is invalid:\n${lines}`, { issues });
}

function compileNode(name: string, node: NodeSpec, path: string, issues: ErrorIssue[]): CompiledNode | undefined {
  const inputs = node.inputs ?? [];
  const base = { name, type: node.type, inputs, outputs: [] as string[] };
  const transform = registry.getTransform(node.type);
  const connector = registry.getConnector(node.type);
  if (!transform && !connector) {
    const known = [...registry.connectorTypes(), ...registry.transformTypes()].join(', ');
    issues.push({ path: `${path}.type`, message: `unknown type '${node.type}' (known: ${known})` });
    return undefined;
  }
  // An invalid config is reported, and the node stays in the graph so structure checks stay exact.
  // A transform's rules need to know whether its input is bounded: they run once the graph is linked.
  const checked = transform
    ? checkConfig(transform.configSchema, node.config, `${path}.config`)
    : checkConnectorConfig(connector!, node.config, inputs.length === 0 ? 'source' : 'sink', `${path}.config`);
  issues.push(...checked.issues);
  const config = checked.issues.length === 0 ? (checked.config as Record<string, unknown>) : (node.config ?? {});
  rememberConfigSecrets(transform?.configSchema ?? connector!.configSchema, config);

  if (transform) {
    if (inputs.length === 0) issues.push({ path: `${path}.inputs`, message: `transform '${node.type}' needs at least one input` });
    return { ...base, kind: 'transform', transform, config };
  }
  if (inputs.length === 0) {
    if (!connector!.createSource) {
      issues.push({ path: `${path}.inputs`, message: `connector '${node.type}' cannot be a source; give it inputs to use it as a sink` });
      return undefined;
    }
    return { ...base, kind: 'source', connector: connector!, config, unbounded: connector!.unbounded?.(config) ?? false };
  }
  if (!connector!.createSink) {
    issues.push({ path: `${path}.inputs`, message: `connector '${node.type}' cannot be a sink; remove its inputs to use it as a source` });
    return undefined;
  }
  return { ...base, kind: 'sink', connector: connector!, config };
}

/**
 * Runs each transform's rules across fields with what its input is: unbounded when a source
 * upstream of it never completes (the runtime creates the transform with the same flag).
 */
function checkTransformRules(nodes: Map<string, CompiledNode>, order: string[], issues: ErrorIssue[]): void {
  const unbounded = new Map<string, boolean>();
  for (const name of order) {
    const node = nodes.get(name);
    if (node?.kind === 'source') unbounded.set(name, node.unbounded);
    if (node?.kind !== 'transform') continue;
    const input = { unbounded: node.inputs.some((i) => unbounded.get(i) === true) };
    unbounded.set(name, input.unbounded);
    if (schemaIssues(node.transform.configSchema, node.config).length > 0) continue; // reported with its path already
    for (const issue of node.transform.validate?.(node.config, input) ?? []) {
      issues.push({ path: configPath(`nodes.${name}.config`, issue.path), message: issue.message });
    }
  }
}

function linkInputs(spec: TopologySpec, nodes: Map<string, CompiledNode>, issues: ErrorIssue[]): void {
  for (const [name, node] of Object.entries(spec.nodes)) {
    (node.inputs ?? []).forEach((input, i) => {
      const upstream = nodes.get(input);
      if (!(input in spec.nodes)) {
        issues.push({ path: `nodes.${name}.inputs[${i}]`, message: `no node named '${input}'` });
      } else if (upstream?.kind === 'sink') {
        issues.push({ path: `nodes.${name}.inputs[${i}]`, message: `'${input}' is a sink; sinks have no output` });
      } else if (upstream) {
        upstream.outputs.push(name);
      }
    });
  }
}

/** Kahn's algorithm; what is left over sits on a cycle. */
function topologicalOrder(spec: TopologySpec, issues: ErrorIssue[]): string[] {
  const indegree = new Map<string, number>();
  for (const [name, node] of Object.entries(spec.nodes)) {
    indegree.set(name, (node.inputs ?? []).filter((i) => i in spec.nodes).length);
  }
  const ready = [...indegree].filter(([, d]) => d === 0).map(([n]) => n);
  const order: string[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(name);
    for (const [other, node] of Object.entries(spec.nodes)) {
      if ((node.inputs ?? []).includes(name)) {
        indegree.set(other, indegree.get(other)! - 1);
        if (indegree.get(other) === 0) ready.push(other);
      }
    }
  }
  const onCycle = [...indegree.keys()].filter((n) => !order.includes(n));
  if (onCycle.length > 0) {
    issues.push({ path: `nodes.${onCycle[0]}.inputs`, message: `cycle through nodes ${onCycle.join(' → ')}` });
  }
  return order;
}

/**
 * Every source must reach a sink, every sink must be fed by a source, and no node may be reached
 * from one source by two routes: acknowledgements are tracked per route in batch order.
 */
function checkReachability(nodes: Map<string, CompiledNode>, issues: ErrorIssue[]): void {
  const sources = [...nodes.values()].filter((n) => n.kind === 'source');
  const sinks = [...nodes.values()].filter((n) => n.kind === 'sink');
  if (nodes.size > 0 && sources.length === 0)
    issues.push({ path: 'nodes', message: 'no source: a source is a connector node without inputs' });
  if (nodes.size > 0 && sinks.length === 0) issues.push({ path: 'nodes', message: 'no sink: a sink is a connector node with inputs' });
  const fed = new Set<string>();
  for (const source of sources) {
    const routes = new Map<string, number>();
    const visit = (name: string, depth: number) => {
      if (depth > nodes.size) return; // cycle, reported elsewhere
      routes.set(name, (routes.get(name) ?? 0) + 1);
      for (const next of nodes.get(name)?.outputs ?? []) visit(next, depth + 1);
    };
    visit(source.name, 0);
    const reachesSink = [...routes.keys()].some((n) => nodes.get(n)?.kind === 'sink');
    if (!reachesSink) issues.push({ path: `nodes.${source.name}`, message: 'this source reaches no sink' });
    for (const [name, count] of routes) {
      fed.add(name);
      if (count > 1) {
        issues.push({
          path: `nodes.${name}.inputs`,
          message: `reached from source '${source.name}' by ${count} routes; fan out to separate branches instead`,
        });
      }
    }
  }
  for (const node of nodes.values()) {
    if (node.kind !== 'source' && !fed.has(node.name) && node.inputs.every((i) => nodes.has(i))) {
      issues.push({ path: `nodes.${node.name}.inputs`, message: 'no source feeds this node' });
    }
  }
}
