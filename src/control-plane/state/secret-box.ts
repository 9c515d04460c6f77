import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { SluiceError } from '../../core/errors.js';

const VERSION = 'v1';

/** AES-256-GCM sealing of datasource configs at rest; the key never leaves the process. */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /**
   * The key from `SLUICE_SECRET_KEY` (base64 of 32 bytes). Without it, a development key is
   * generated once into `devKeyPath` (mode 0600) and a warning is logged: such a key protects
   * nothing against someone who can read the state directory.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv, devKeyPath: string, logger: Logger): SecretBox {
    const encoded = env.SLUICE_SECRET_KEY;
    if (encoded !== undefined) {
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== 32) {
        throw new SluiceError('SLUICE_CONFIG_INVALID', 'SLUICE_SECRET_KEY must be base64 of exactly 32 bytes', {
          issues: [{ path: 'env.SLUICE_SECRET_KEY', message: `decodes to ${key.length} bytes, expected 32` }],
        });
      }
      return new SecretBox(key);
    }
    if (!existsSync(devKeyPath)) {
      mkdirSync(dirname(devKeyPath), { recursive: true });
      writeFileSync(devKeyPath, randomBytes(32).toString('base64'), { mode: 0o600 });
    }
    logger.warn(
      { devKeyPath },
      'SLUICE_SECRET_KEY is not set: datasource secrets are sealed with a development key stored next to the state',
    );
    return new SecretBox(Buffer.from(readFileSync(devKeyPath, 'utf8').trim(), 'base64'));
  }

  static fromKey(key: Buffer): SecretBox {
    return new SecretBox(key);
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
  }

  open<T = unknown>(sealed: string): T {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== VERSION) throw new SluiceError('SLUICE_INTERNAL', `unknown sealed value version '${version}'`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return JSON.parse(Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8')) as T;
    } catch (error) {
      throw new SluiceError('SLUICE_INTERNAL', 'a sealed datasource config does not open with the current SLUICE_SECRET_KEY', {
        cause: error,
      });
    }
  }
}
