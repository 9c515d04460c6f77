import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { registry } from '../../src/core/registry.js';
import { compileTopology } from '../../src/topology/compile.js';
import '../support/memory-connector.js';
import '../support/test-transforms.js';
import '../../src/connectors/file/index.js';

registry.transform({
  type: 'test_clean',
  description: 'test: a config with an array',
  configSchema: Type.Object({ outlier_columns: Type.Array(Type.String()), threshold: Type.Number({ default: 3 }) }),
  create: () => (s) => s,
});

const valid = () => ({
  name: 'ok',
  nodes: {
    in: { type: 'memory', config: { id: 'a' } },
    clean: { type: 'test_clean', inputs: ['in'], config: { outlier_columns: ['cost'] } },
    out: { type: 'memory', inputs: ['clean'], config: { id: 'b' } },
  },
});

function issuesOf(spec: unknown, env: NodeJS.ProcessEnv = {}) {
  try {
    compileTopology(spec, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('SLUICE_TOPOLOGY_INVALID');
    return (error as SluiceError).issues;
  }
  throw new Error('expected the topology to be invalid');
}

describe('compileTopology', () => {
  it('compiles a valid DAG: kinds inferred, defaults filled, order respects inputs', () => {
    const t = compileTopology(valid());
    expect(t.order).toEqual(['in', 'clean', 'out']);
    expect([...t.nodes.values()].map((n) => n.kind)).toEqual(['source', 'transform', 'sink']);
    expect(t.nodes.get('clean')!.config).toEqual({ outlier_columns: ['cost'], threshold: 3 });
    expect(t.settings).toEqual({ batch_size: 10_000, max_in_flight: 8, partition_concurrency: 4, sink_retries: 3, checkpoint_retries: 3 });
    expect(t.checkpoint).toEqual({ store: 'file', path: '.sluice/checkpoints' });
    expect(t.deadLetter.config).toMatchObject({ path: '.sluice/dead-letter/ok.ndjson' });
  });

  it('fills checkpoint defaults per store without mixing the stores', () => {
    expect(compileTopology({ ...valid(), checkpoint: { store: 'redis', url: 'redis://h:1' } }).checkpoint).toEqual({
      store: 'redis',
      url: 'redis://h:1',
      key_prefix: 'sluice:checkpoint:',
    });
    expect(compileTopology({ ...valid(), checkpoint: { store: 'file', path: '/x' } }).checkpoint).toEqual({ store: 'file', path: '/x' });
    expect(issuesOf({ ...valid(), checkpoint: { store: 'redis', path: '/x' } }).map((i) => i.path)).toEqual(['checkpoint']);
  });

  it('names the path of a bad config value', () => {
    const spec = valid();
    (spec.nodes.clean.config as { outlier_columns: unknown[] }).outlier_columns = [42];
    expect(issuesOf(spec)).toEqual([{ path: 'nodes.clean.config.outlier_columns[0]', message: 'Expected string' }]);
  });

  it('names a missing required config field', () => {
    const spec = valid();
    spec.nodes.clean.config = {} as never;
    expect(issuesOf(spec).map((i) => i.path)).toEqual(['nodes.clean.config.outlier_columns']);
  });

  it('rejects unknown types, listing the known ones', () => {
    const spec = valid();
    spec.nodes.clean.type = 'cleen';
    const [issue] = issuesOf(spec);
    expect(issue.path).toBe('nodes.clean.type');
    expect(issue.message).toContain("unknown type 'cleen'");
    expect(issue.message).toContain('memory');
  });

  it('rejects dangling inputs with the index of the bad reference', () => {
    const spec = valid();
    spec.nodes.out.inputs = ['clean', 'claen'];
    expect(issuesOf(spec)).toContainEqual({ path: 'nodes.out.inputs[1]', message: "no node named 'claen'" });
  });

  it('rejects cycles', () => {
    const spec = {
      name: 'loop',
      nodes: {
        in: { type: 'memory', config: { id: 'a' } },
        a: { type: 'test_keep_even', inputs: ['in', 'b'] },
        b: { type: 'test_keep_even', inputs: ['a'] },
        out: { type: 'memory', inputs: ['b'], config: { id: 'b' } },
      },
    };
    const issues = issuesOf(spec);
    expect(issues.some((i) => i.message.startsWith('cycle through nodes') && i.message.includes('a') && i.message.includes('b'))).toBe(
      true,
    );
  });

  it('rejects a transform without inputs, a sink feeding a node, and a topology with no sink', () => {
    expect(issuesOf({ name: 'x', nodes: { in: { type: 'memory', config: { id: 'a' } }, t: { type: 'test_keep_even' } } })).toEqual(
      expect.arrayContaining([
        { path: 'nodes.t.inputs', message: "transform 'test_keep_even' needs at least one input" },
        { path: 'nodes', message: 'no sink: a sink is a connector node with inputs' },
      ]),
    );
    const spec = valid() as ReturnType<typeof valid> & { nodes: Record<string, unknown> };
    spec.nodes.after = { type: 'memory', inputs: ['out'], config: { id: 'c' } };
    expect(issuesOf(spec)).toContainEqual({ path: 'nodes.after.inputs[0]', message: "'out' is a sink; sinks have no output" });
  });

  it('rejects a node reached twice from one source (a diamond)', () => {
    const spec = {
      name: 'diamond',
      nodes: {
        in: { type: 'memory', config: { id: 'a' } },
        l: { type: 'test_keep_even', inputs: ['in'] },
        r: { type: 'test_keep_even', inputs: ['in'] },
        out: { type: 'memory', inputs: ['l', 'r'], config: { id: 'b' } },
      },
    };
    expect(issuesOf(spec).map((i) => i.path)).toContain('nodes.out.inputs');
  });

  it('rejects bad top-level fields with their path', () => {
    expect(issuesOf({ ...valid(), name: 'bad name!' }).map((i) => i.path)).toEqual(['name']);
    expect(issuesOf({ ...valid(), settings: { max_in_flight: 0 } }).map((i) => i.path)).toEqual(['settings.max_in_flight']);
  });

  it('resolves ${env:NAME} references and reports unset ones with their path', () => {
    const spec = valid();
    spec.nodes.in.config.id = '${env:SOURCE_ID}';
    expect(compileTopology(spec, { env: { SOURCE_ID: 'from-env' } }).nodes.get('in')!.config).toEqual({ id: 'from-env' });
    expect(issuesOf(spec, {})).toEqual([{ path: 'nodes.in.config.id', message: 'environment variable SOURCE_ID is not set' }]);
  });

  it('a topology built from a request refuses ${env:NAME} references instead of resolving them', () => {
    const spec = valid();
    spec.nodes.clean.config.outlier_columns = ['cost', 'leak-${env:SOURCE_ID}'];
    let error: unknown;
    try {
      compileTopology(spec, { env: { SOURCE_ID: 'from-env' }, envRefs: 'refuse' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).issues.map((i) => i.path)).toEqual(['nodes.clean.config.outlier_columns[1]']);
    expect((error as SluiceError).message).not.toContain('from-env');
  });
});
