// Runs one sync rule in its own process, so a test can kill it with SIGKILL mid-run. With
// `killAt` it kills itself at its first write to a side: `before_commit` once the write intent is
// recorded (the transaction still open), `after_commit` once the write committed, before the sync
// state records it.
import { KeyState } from '../../src/state/key-state.js';
import { PgSide } from '../../src/sync/pg-side.js';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { datasources, engineFor } from './helpers.js';

const { prefix, sources, rule, killAt } = JSON.parse(process.env.SYNC_WORKER!) as {
  prefix: string;
  sources: Record<string, string>;
  rule: unknown;
  killAt?: 'before_commit' | 'after_commit';
};

/** Replaces a method by one that runs it, then dies. */
function dieAfter<T extends object, K extends keyof T>(prototype: T, name: K): void {
  const original = prototype[name] as (...args: unknown[]) => Promise<unknown>;
  prototype[name] = async function (this: T, ...args: unknown[]) {
    await original.apply(this, args);
    process.kill(process.pid, 'SIGKILL');
  } as T[K];
}
if (killAt === 'before_commit') dieAfter(KeyState.prototype, 'recordIntent');
if (killAt === 'after_commit') dieAfter(PgSide.prototype, 'apply');

const engine = engineFor(
  prefix,
  datasources(Object.fromEntries(Object.entries(sources).map(([name, url]) => [name, { type: 'postgresql', config: { url } }]))),
);
process.stdout.write('started\n');
const run = await engine.execute(parseSyncRule(rule));
process.stdout.write(JSON.stringify(run) + '\n');
await engine.close();
