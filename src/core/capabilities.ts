import { SluiceError } from './errors.js';
import type { ConnectorCapability, ConnectorDefinition } from './ports.js';
import { registry } from './registry.js';

/** The registered definition of a connector type (SLUICE_UNKNOWN_TYPE when there is none). */
export function connectorDefinition(type: string): ConnectorDefinition {
  const definition = registry.getConnector(type);
  if (!definition) throw new SluiceError('SLUICE_UNKNOWN_TYPE', `no connector of type '${type}'`);
  return definition;
}

export function hasCapability(definition: ConnectorDefinition, capability: ConnectorCapability): boolean {
  return definition.capabilities?.includes(capability) ?? false;
}

/**
 * Refuses, as a bad request naming `path`, a connector that does not declare `capability`;
 * `what` is the capability in the request's words (`cdc`, `upsert`, `bidirectional sync`).
 */
export function requireCapability(definition: ConnectorDefinition, capability: ConnectorCapability, what: string, path: string): void {
  if (hasCapability(definition, capability)) return;
  const message = `connector '${definition.type}' cannot do ${what}`;
  throw new SluiceError('SLUICE_CONFIG_INVALID', `${path}: ${message}`, { issues: [{ path, message }] });
}
