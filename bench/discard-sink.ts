import { Type } from '@sinclair/typebox';
import { registry } from '../src/core/registry.js';

/** A sink that drops every batch, so a benchmark measures the source and runtime alone. */
export const DISCARD = 'bench_discard';

registry.connector({
  type: DISCARD,
  description: 'Drops every batch (benchmarks measure the source and runtime alone).',
  configSchema: Type.Object({}),
  createSink: () => ({ write: async () => undefined, close: async () => undefined }),
});
