import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SLUICE_BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the real `sluice` command as a child process. */
export function startSluice(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [SLUICE_BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function sluice(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startSluice(args, options).done;
}

/** The URL a started `sluice serve` prints once it listens; rejects if it exits first. */
export function serveUrl(serve: ReturnType<typeof startSluice>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    serve.child.stdout!.on('data', (d) => {
      out += d;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    void serve.done.then((r) => reject(new Error(`serve exited: ${r.stderr}`)));
  });
}
