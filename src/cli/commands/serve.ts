import { parseArgs } from 'node:util';
import { buildApp } from '../../control-plane/app.js';
import { parseApiKeys } from '../../control-plane/plugins/auth.js';
import { logger } from '../../core/logger.js';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../main.js';
import { writeErr, writeOut } from '../output.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the control plane (REST API, pipelines, schedules)',
  usage: `Usage: sluice serve [--host 127.0.0.1] [--port 8008] [--state-dir .sluice]

Serves the REST API under /api/v1 (OpenAPI at /openapi.json, Swagger UI at /docs, metrics at
/metrics). State lives in an embedded PGlite database under --state-dir, or in PostgreSQL when
SLUICE_DATABASE_URL is set.

Environment:
  SLUICE_API_KEYS       key:role list, roles viewer|operator|admin (e.g. k1:admin,k2:viewer);
                        required to listen on anything but loopback
  SLUICE_SECRET_KEY     base64 of 32 bytes sealing datasource secrets (AES-256-GCM);
                        a development key is generated under --state-dir when unset
  SLUICE_DATABASE_URL   PostgreSQL URL of the state database
  SLUICE_CORS_ORIGINS   comma-separated allowed origins
  SLUICE_RATE_LIMIT_PER_MINUTE  requests per minute per key, or per address without one (default 1200)
  SLUICE_AUTH_FAILURES_PER_MINUTE  unknown keys per minute from one address before it gets 429
                        on every authenticated route for the rest of the minute (default 30)`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: process.env.SLUICE_PORT ?? '8008' },
        'state-dir': { type: 'string', default: '.sluice' },
      },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      writeErr(`sluice serve: --port must be 0-65535\n`);
      return EXIT.usage;
    }
    // Parsed, not just present: a value that holds no key must not pass for one that does.
    if (parseApiKeys(process.env.SLUICE_API_KEYS).length === 0 && !LOOPBACK.has(values.host!)) {
      writeErr(`sluice serve: refusing to listen on ${values.host} without SLUICE_API_KEYS (every request would be admin)\n`);
      return EXIT.usage;
    }
    const app = await buildApp({ stateDir: values['state-dir'] });
    const address = await app.listen({ host: values.host, port });
    writeOut(`sluice control plane listening on ${address}\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await app.close();
    return EXIT.ok;
  },
};
