import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { compileTopology } from '../../src/topology/compile.js';
import '../../src/connectors/file/index.js';
import '../../src/connectors/kafka/index.js';
import '../../src/transforms/index.js';
import '../support/memory-connector.js';

const brokers = ['127.0.0.1:9092'];
const kafkaIn = (group_id?: string) => ({ type: 'kafka', config: { brokers, topics: ['orders'], ...(group_id ? { group_id } : {}) } });
const exactlyOnce = (inputs: string[], group_id?: string) => ({
  type: 'kafka',
  inputs,
  config: { brokers, topic: 'orders-copy', exactly_once: { transactional_id: 'copy-tx', ...(group_id ? { group_id } : {}) } },
});
const memoryOut = (inputs: string[]) => ({ type: 'memory', inputs, config: { id: 'audit' } });
const window = {
  type: 'aggregate',
  config: { aggregations: { amount: ['sum'] }, window: { type: 'tumbling', time_column: 'ts', size: '1m' } },
};

function issuesOf(nodes: Record<string, unknown>) {
  try {
    compileTopology({ name: 'eos', nodes }, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('SLUICE_TOPOLOGY_INVALID');
    return (error as SluiceError).issues;
  }
  throw new Error('expected the topology to be refused');
}

describe('a sink that commits its source positions (kafka exactly-once)', () => {
  it('refuses another sink fed by the same source, naming that sink', () => {
    const issues = issuesOf({ in: kafkaIn(), out: exactlyOnce(['in']), audit: memoryOut(['in']) });
    expect(issues).toEqual([{ path: 'nodes.audit.inputs', message: expect.stringContaining("exactly-once sink 'out'") }]);
    expect(issues[0].message).toContain("source 'in'");
  });

  it('refuses another sink behind a transform of the same source', () => {
    const issues = issuesOf({
      in: kafkaIn(),
      big: { type: 'filter', inputs: ['in'], config: { condition: 'amount > 100' } },
      out: exactlyOnce(['in']),
      audit: memoryOut(['big']),
    });
    expect(issues.map((i) => i.path)).toEqual(['nodes.audit.inputs']);
  });

  it('refuses a window between the source and the sink, naming the transform', () => {
    const issues = issuesOf({ in: kafkaIn(), totals: { ...window, inputs: ['in'] }, out: exactlyOnce(['totals']) });
    expect(issues).toEqual([{ path: 'nodes.totals', message: expect.stringContaining('holds rows across batches') }]);
  });

  it('refuses a kafka source it claims but that does not feed it', () => {
    const issues = issuesOf({ in: kafkaIn('a'), other: kafkaIn('b'), out: exactlyOnce(['in']), audit: memoryOut(['other']) });
    expect(issues).toEqual([{ path: 'nodes.other', message: expect.stringContaining("sink 'out' commits this source's positions") }]);
  });

  it('accepts stateless transforms in between, and other sources of other groups feeding other sinks', () => {
    const compiled = compileTopology(
      {
        name: 'eos',
        nodes: {
          in: kafkaIn('a'),
          big: { type: 'filter', inputs: ['in'], config: { condition: 'amount > 100' } },
          out: exactlyOnce(['big'], 'a'),
          other: kafkaIn('b'),
          totals: { ...window, inputs: ['other'] },
          audit: memoryOut(['totals']),
        },
      },
      { env: {} },
    );
    expect(compiled.order).toHaveLength(6);
  });

  it('leaves fan-out and windows alone without exactly_once', () => {
    const nodes = {
      in: kafkaIn(),
      totals: { ...window, inputs: ['in'] },
      out: { type: 'kafka', inputs: ['totals'], config: { brokers, topic: 'totals' } },
      audit: memoryOut(['in']),
    };
    expect(compileTopology({ name: 'plain', nodes }, { env: {} }).order).toHaveLength(4);
  });
});
