import { parseConfig } from '../../../core/config.js';
import { SluiceError, errorMessage } from '../../../core/errors.js';
import { race } from '../../../core/race.js';
import { registry } from '../../../core/registry.js';
import { resolveEnvRefs } from '../../../core/secrets.js';
import { datasourceSecrets } from '../../state/secret-fields.js';

const CHECK_TIMEOUT_MS = 10_000;

/** Removes every secret value of a config from a message (drivers sometimes echo them). */
export function scrub(message: string, type: string, config: Record<string, unknown>): string {
  let out = message;
  for (const value of datasourceSecrets(type, config).values) if (value.length >= 4) out = out.split(value).join('[redacted]');
  return out;
}

/**
 * Runs a connector's connection test with `${env:...}` references resolved. Returns false when
 * the connector has no test; throws SLUICE_CONNECTION_FAILED naming the config when it fails.
 */
export async function checkConnection(type: string, config: Record<string, unknown>): Promise<boolean> {
  const connector = registry.getConnector(type);
  if (!connector?.check) return false;
  const resolved = resolveEnvRefs(config);
  let timer: NodeJS.Timeout | undefined;
  try {
    await race([
      connector.check(parseConfig(connector.configSchema, resolved)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return true;
  } catch (error) {
    const message = scrub(errorMessage(error), type, resolved);
    throw new SluiceError('SLUICE_CONNECTION_TEST_FAILED', `connection test of ${type} failed: ${message}`, {
      issues: [{ path: 'body.config', message }],
    });
  } finally {
    clearTimeout(timer);
  }
}
