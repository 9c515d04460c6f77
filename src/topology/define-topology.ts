import type { TopologySpec } from './schema.js';

/**
 * Typed builder for `topologies/*.ts`: returns the spec unchanged, so a topology file is checked
 * by the compiler as it is written and validated in full by `compileTopology` when it runs.
 *
 * @example
 * export default defineTopology({
 *   name: 'resources',
 *   nodes: {
 *     input: { type: 'file', config: { path: 'data/resources.csv' } },
 *     costly: { type: 'filter', inputs: ['input'], config: { condition: 'cost > 1000' } },
 *     output: { type: 'file', inputs: ['costly'], config: { path: 'out/costly.ndjson' } },
 *   },
 * });
 */
export function defineTopology<const T extends TopologySpec>(spec: T): T {
  return spec;
}
