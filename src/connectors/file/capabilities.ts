import type { ConnectorCapabilities } from '../../core/ports.js';

/**
 * What the file connector can do: bounded reads, and replace by publishing a staged file. A
 * load step's mode is the sink's `mode`; a file has no table, so `table_name` (which the
 * etl_basic template always sets) is ignored.
 */
export const fileCapabilities: ConnectorCapabilities = {
  capabilities: ['bounded_read', 'atomic_replace'],
  loadConfig: ({ options, step }, overlay) => overlay({ ...options, ...(step.path ? { path: step.path } : {}), mode: step.mode }),
};
