import { redactSecrets } from '../core/secrets.js';

/** Command output (results) on stdout; resolved secrets never reach it. */
export function writeOut(text: string): void {
  process.stdout.write(redactSecrets(text) as string);
}

/** Diagnostics and progress on stderr. */
export function writeErr(text: string): void {
  process.stderr.write(redactSecrets(text) as string);
}
