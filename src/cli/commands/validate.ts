import { parseArgs } from 'node:util';
import { loadTopology } from '../../topology/load-topology.js';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../main.js';
import { writeOut } from '../output.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a topology without running it',
  usage: `Usage: sluice validate <topology>

Loads a topology (.ts, .js, .yaml, .yml or .json), checks its schema, node types, configs,
inputs and cycles, and prints every problem with its path. Exit 0 when valid, 2 when not.`,
  async run(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    if (positionals.length !== 1) {
      writeOut(`${this.usage}\n`);
      return EXIT.usage;
    }
    const topology = await loadTopology(positionals[0]);
    const kinds = (kind: string) => topology.order.filter((n) => topology.nodes.get(n)!.kind === kind).join(', ') || '-';
    writeOut(
      `topology '${topology.name}' is valid: ${topology.nodes.size} nodes\n` +
        `  sources:    ${kinds('source')}\n  transforms: ${kinds('transform')}\n  sinks:      ${kinds('sink')}\n`,
    );
    return EXIT.ok;
  },
};
