import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { compileTopology } from '../../src/topology/compile.js';
import '../../src/register-all.js';

type Node = { type: string; inputs?: string[]; config?: Record<string, unknown> };

const KAFKA_SOURCE: Node = { type: 'kafka', config: { topics: ['orders'] } };
const KAFKA_SINK: Node = { type: 'kafka', inputs: ['in'], config: { topic: 'out' } };
const FILE_SOURCE: Node = { type: 'file', config: { path: 'in.csv' } };
const FILE_SINK: Node = { type: 'file', inputs: ['in'], config: { path: 'out.ndjson' } };

/** Every issue `sluice validate` reports for a topology, as `path: message` lines. */
function problems(nodes: Record<string, Node>): string[] {
  try {
    compileTopology({ name: 'rules', nodes }, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    return (error as SluiceError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

/** A source → transform → sink topology with the transform's config. */
const through = (source: Node, type: string, config: Record<string, unknown>) => ({
  in: source,
  t: { type, inputs: ['in'], config },
  out: { ...FILE_SINK, inputs: ['t'] },
});

describe('rules across fields, reported by compileTopology with their full path', () => {
  it('accepts configs that keep every rule', () => {
    expect(problems({ in: KAFKA_SOURCE, out: KAFKA_SINK })).toEqual([]);
    expect(
      problems({
        in: { type: 'postgresql', config: { mode: 'incremental', table: 'events', cursor_column: 'at' } },
        out: { type: 'postgresql', inputs: ['in'], config: { target_schema: 'replica' } },
      }),
    ).toEqual([]);
    expect(problems(through(FILE_SOURCE, 'aggregate', { aggregations: { cost: 'sum' } }))).toEqual([]);
  });

  it('kafka: a source needs topics (and start_timestamp to start at a time), a sink a topic and a writable format, avro a registry', () => {
    expect(problems({ in: { type: 'kafka', config: { start_from: 'timestamp' } }, out: FILE_SINK })).toEqual([
      'nodes.in.config.topics: a kafka source needs `topics`',
      'nodes.in.config.start_timestamp: start_from "timestamp" needs start_timestamp',
    ]);
    expect(problems({ in: KAFKA_SOURCE, out: { type: 'kafka', inputs: ['in'], config: { format: 'raw' } } })).toEqual([
      'nodes.out.config.topic: a kafka sink needs `topic`',
      'nodes.out.config.format: a kafka sink writes json or avro, not raw',
    ]);
    expect(problems({ in: { type: 'kafka', config: { topics: ['t'], format: 'avro' } }, out: FILE_SINK })).toEqual([
      'nodes.in.config.schema_registry: format avro needs `schema_registry`',
    ]);
  });

  it('postgresql: each source mode needs what it reads by, a parallel read one key column, a sink a target table', () => {
    const sink = { type: 'postgresql', inputs: ['in'], config: { url: 'postgres://x/db' } };
    expect(problems({ in: { type: 'postgresql', config: { url: 'postgres://x/db' } }, out: sink })).toEqual([
      'nodes.in.config.table: a postgresql query source needs `table` or `query`',
      'nodes.out.config.table: a postgresql sink needs `table`, `table_map` or `target_schema`',
    ]);
    expect(problems({ in: { type: 'postgresql', config: { mode: 'incremental' } }, out: FILE_SINK })).toEqual([
      'nodes.in.config.table: a postgresql incremental source needs `table`',
      'nodes.in.config.cursor_column: a postgresql incremental source needs `cursor_column`',
    ]);
    expect(problems({ in: { type: 'postgresql', config: { table: 't', parallelism: 4, key: ['a', 'b'] } }, out: FILE_SINK })).toEqual([
      'nodes.in.config.key: a parallel read (parallelism 4) needs a single-column integer key',
    ]);
  });

  it('file: a sink writes ndjson, csv or parquet, never a read-only format or a JSON array', () => {
    const sinkOf = (config: Record<string, unknown>) => problems({ in: FILE_SOURCE, out: { type: 'file', inputs: ['in'], config } });
    expect(sinkOf({ path: 'out.xlsx' })).toEqual([
      'nodes.out.config.format: the file sink does not write xlsx (read-only format); use ndjson, csv or parquet',
    ]);
    expect(sinkOf({ path: 'out.ndjson', format: 'xml' })).toEqual([
      'nodes.out.config.format: the file sink does not write xml (read-only format); use ndjson, csv or parquet',
    ]);
    expect(sinkOf({ path: 'out.json' })).toEqual([
      'nodes.out.config.format: the file sink writes ndjson, csv or parquet (a JSON array cannot be appended to durably)',
    ]);
    expect(sinkOf({ path: 'out.data' })).toEqual([
      'nodes.out.config.format: cannot tell the format of out.data from its extension; set format',
    ]);
    // The same path is a fine source: xlsx is read-only, not unreadable.
    expect(problems({ in: { type: 'file', config: { path: 'in.xlsx' } }, out: FILE_SINK })).toEqual([]);
  });

  it('the dead-letter destination is checked as a sink', () => {
    const issues = (() => {
      try {
        compileTopology(
          { name: 'dl', nodes: { in: FILE_SOURCE, out: FILE_SINK }, dead_letter: { type: 'file', config: { path: 'dead.xlsx' } } },
          { env: {} },
        );
      } catch (error) {
        return (error as SluiceError).issues.map((i) => i.path);
      }
      return [];
    })();
    expect(issues).toEqual(['dead_letter.config.format']);
  });

  it('transforms that need the whole input are refused downstream of an unbounded source, and only there', () => {
    expect(problems(through(KAFKA_SOURCE, 'aggregate', { aggregations: { cost: 'sum' } }))).toEqual([
      'nodes.t.config.window: an unbounded input needs a window (tumbling, hopping or session)',
    ]);
    expect(problems(through(KAFKA_SOURCE, 'pivot', { index: 'g', columns: 'k', values: 'v' }))).toEqual([
      'nodes.t.config: pivot needs the whole input to know its output columns; an unbounded input never completes',
    ]);
    expect(problems(through(KAFKA_SOURCE, 'normalize', { min_max_columns: ['v'] }))).toEqual([
      'nodes.t.config: normalize needs the whole input (global min, max, mean, std), which an unbounded input never completes',
    ]);
    expect(problems(through(KAFKA_SOURCE, 'clean', { remove_outliers: true, missing_values: { strategy: 'median' } }))).toEqual([
      'nodes.t.config.missing_values.strategy: strategy median needs the whole input, which an unbounded input never completes',
      'nodes.t.config.remove_outliers: remove_outliers needs the whole input, which an unbounded input never completes',
    ]);
    // Unbounded reaches through other transforms; a bounded postgresql incremental read is not unbounded.
    const chained = {
      in: KAFKA_SOURCE,
      f: { type: 'filter', inputs: ['in'], config: { condition: 'v > 0' } },
      t: { type: 'pivot', inputs: ['f'], config: { index: 'g', columns: 'k', values: 'v' } },
      out: { ...FILE_SINK, inputs: ['t'] },
    };
    expect(problems(chained).map((p) => p.split(':')[0])).toEqual(['nodes.t.config']);
    expect(
      problems(
        through({ type: 'postgresql', config: { mode: 'incremental', table: 'e', cursor_column: 'at' } }, 'pivot', {
          index: 'g',
          columns: 'k',
          values: 'v',
        }),
      ),
    ).toEqual([]);
  });

  it('aggregate windows need positive lengths of their type and a hopping slide within the size', () => {
    const windowed = (window: Record<string, unknown>) =>
      problems(through(KAFKA_SOURCE, 'aggregate', { aggregations: { v: 'sum' }, window: { time_column: 'ts', ...window } }));
    expect(windowed({ type: 'tumbling' })).toEqual(['nodes.t.config.window.size: a tumbling window needs size']);
    expect(windowed({ type: 'session', gap: 0 })).toEqual(['nodes.t.config.window.gap: window gap must be positive']);
    expect(windowed({ type: 'hopping', size: '1h', slide: '2h' })).toEqual([
      'nodes.t.config.window.slide: hopping slide must be positive and at most the size',
    ]);
    expect(windowed({ type: 'hopping', size: '1h', slide: '30m' })).toEqual([]);
  });

  it('clean, enrich and validate: the fields an option reads, and lookup sources checked as sources', () => {
    expect(problems(through(FILE_SOURCE, 'clean', { missing_values: { strategy: 'fill' } }))).toEqual([
      'nodes.t.config.missing_values.fill_values: strategy fill needs fill_values',
    ]);
    expect(
      problems(
        through(FILE_SOURCE, 'enrich', {
          lookups: [
            { key: 'g' },
            { key: ['a', 'b'], lookup_key: 'a', rows: [] },
            { key: 'g', source: { type: 'nope' } },
            {
              key: 'g',
              source: { type: 'postgresql', config: { mode: 'incremental', table: 'regions', cursor_column: 'at', parallelism: 0 } },
            },
            { key: 'g', source: { type: 'postgresql', config: { mode: 'incremental', table: 'regions' } } },
          ],
        }),
      ),
    ).toEqual([
      'nodes.t.config.lookups[0]: give exactly one of source and rows',
      'nodes.t.config.lookups[1].lookup_key: key and lookup_key differ in length',
      expect.stringMatching(
        /^nodes\.t\.config\.lookups\[2\]\.source\.type: no connector with a source of type 'nope' \(types: .*file.*\)$/,
      ),
      expect.stringMatching(/^nodes\.t\.config\.lookups\[3\]\.source\.config\.parallelism: /),
      'nodes.t.config.lookups[4].source.config.cursor_column: a postgresql incremental source needs `cursor_column`',
    ]);
    expect(
      problems(
        through(FILE_SOURCE, 'validate', {
          validation_rules: [
            { type: 'range', column: 'x' },
            { type: 'regex', columns: ['a', 'b'], pattern: '(' },
            { type: 'not_null' },
            { type: 'type', column: 'x' },
          ],
        }),
      ),
    ).toEqual([
      'nodes.t.config.validation_rules[0]: range needs min_value and/or max_value',
      'nodes.t.config.validation_rules[1].column: rule regex needs one column',
      expect.stringMatching(/^nodes\.t\.config\.validation_rules\[1\]\.pattern: Invalid regular expression/),
      'nodes.t.config.validation_rules[2].columns: not_null needs columns',
      'nodes.t.config.validation_rules[3].expected_type: type needs expected_type',
    ]);
  });
});
