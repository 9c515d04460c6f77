import { defineTopology } from '../src/topology/define-topology.js';

/**
 * The quickstart: a governance inventory CSV (about 200k Azure-like resources, with duplicates,
 * missing values, outliers and a few malformed lines; `npm run quickstart` generates it) through a
 * filter and a field mapping, fanned out to a Parquet dataset and an NDJSON file of the
 * non-compliant resources. No external service: checkpoints and dead letters are local files.
 */
export default defineTopology({
  name: 'quickstart',
  description: 'Governance resources: billable ones to Parquet, non-compliant ones to NDJSON',
  checkpoint: { store: 'file', path: '.sluice/checkpoints' },
  dead_letter: { type: 'file', config: { path: 'out/quickstart/dead-letter.ndjson', format: 'ndjson' } },
  settings: { batch_size: 10_000, max_in_flight: 8 },
  nodes: {
    resources: {
      type: 'file',
      description: 'The inventory export; malformed lines go to the dead-letter file with their line number.',
      config: { path: 'data/generated/resources.csv', format: 'csv' },
    },
    billable: {
      type: 'filter',
      inputs: ['resources'],
      description: 'Resources with a known, non-negative monthly cost.',
      config: { condition: 'monthly_cost is not null and monthly_cost >= 0' },
    },
    shaped: {
      type: 'map',
      inputs: ['billable'],
      description: "The warehouse's field names.",
      config: {
        rename: { monthly_cost: 'cost', cpu_utilization: 'cpu_percent', resource_type: 'type' },
        select: ['resource_id', 'resource_group', 'region', 'type', 'compliance_status', 'cost', 'cpu_percent', 'last_modified'],
      },
    },
    warehouse: {
      type: 'file',
      inputs: ['shaped'],
      config: { path: 'out/quickstart/resources.parquet', format: 'parquet' },
    },
    non_compliant: {
      type: 'filter',
      inputs: ['shaped'],
      config: { condition: "compliance_status = 'non_compliant'" },
    },
    alerts: {
      type: 'file',
      inputs: ['non_compliant'],
      config: { path: 'out/quickstart/non-compliant.ndjson', format: 'ndjson' },
    },
  },
});
