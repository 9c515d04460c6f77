import { registry } from '../../core/registry.js';
import { scanSecrets, type SecretScan } from '../../core/secret-fields.js';

/**
 * The secrets of a datasource config, as the `secret` annotations of its connector's schema
 * and the credentials inside its URLs say: `masked` is the only form of it ever shown.
 */
export function datasourceSecrets(type: string, config: Record<string, unknown>): SecretScan<Record<string, unknown>> {
  return scanSecrets(registry.getConnector(type)?.configSchema, config);
}
