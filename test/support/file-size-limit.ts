import { execFileSync } from 'node:child_process';

function setSoftLimit(limit: string): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${limit}:`]);
}

/**
 * Runs `fn` with this process's file size limit (RLIMIT_FSIZE) lowered to `bytes`: a write that
 * crosses it is cut short and the next one fails with EFBIG, as writes do when a disk fills up.
 */
export async function withFileSizeLimit<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
  const soft = execFileSync('prlimit', ['--pid', String(process.pid), '--fsize', '--output=SOFT', '--noheadings'], {
    encoding: 'utf8',
  }).trim();
  setSoftLimit(String(bytes));
  try {
    return await fn();
  } finally {
    setSoftLimit(soft);
  }
}
