import type { ConnectorDefinition, TransformDefinition } from './ports.js';
import type { TSchema } from '@sinclair/typebox';

/**
 * The types a topology may name. Connectors and transforms register themselves from their
 * index modules; `src/register-all.ts` imports every one of them.
 */
class Registry {
  private readonly connectors = new Map<string, ConnectorDefinition>();
  private readonly transforms = new Map<string, TransformDefinition>();

  connector<S extends TSchema>(definition: ConnectorDefinition<S>): ConnectorDefinition<S> {
    this.connectors.set(definition.type, definition as unknown as ConnectorDefinition);
    return definition;
  }

  transform<S extends TSchema>(definition: TransformDefinition<S>): TransformDefinition<S> {
    this.transforms.set(definition.type, definition as unknown as TransformDefinition);
    return definition;
  }

  getConnector(type: string): ConnectorDefinition | undefined {
    return this.connectors.get(type);
  }

  getTransform(type: string): TransformDefinition | undefined {
    return this.transforms.get(type);
  }

  connectorTypes(): string[] {
    return [...this.connectors.keys()].sort();
  }

  transformTypes(): string[] {
    return [...this.transforms.keys()].sort();
  }
}

export const registry = new Registry();
