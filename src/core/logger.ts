import pino, { type Logger } from 'pino';
import { redactSecrets } from './secrets.js';

/**
 * The process logger. JSON to stderr by default (stdout stays free for command output);
 * `SLUICE_LOG_LEVEL` sets the level. Every line passes through secret redaction.
 */
export function createLogger(options: { level?: string; destination?: number; stream?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info',
      base: { app: 'sluice' },
      formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? (redactSecrets(a) as string) : a)) as Parameters<typeof method>);
        },
      },
    },
    options.stream ?? pino.destination({ fd: options.destination ?? 2, sync: false }),
  );
}

export const logger: Logger = createLogger();
export type { Logger };
