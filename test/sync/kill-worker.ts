// Runs one sync rule in its own process, so a test can kill it with SIGKILL mid-run. With
// `killAfterWrite` it kills itself right after its first write to a side committed, before the
// sync state records that write.
import { PgSide } from '../../src/sync/pg-side.js';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { datasources, engineFor } from './helpers.js';

const { prefix, sources, rule, killAfterWrite } = JSON.parse(process.env.SYNC_WORKER!) as { prefix: string; sources: Record<string, string>; rule: unknown; killAfterWrite?: boolean };
if (killAfterWrite) {
  const apply = PgSide.prototype.apply;
  PgSide.prototype.apply = async function (this: PgSide, ...args: Parameters<PgSide['apply']>) {
    const applied = await apply.apply(this, args);
    process.kill(process.pid, 'SIGKILL');
    return applied;
  };
}
const engine = engineFor(prefix, datasources(Object.fromEntries(Object.entries(sources).map(([name, url]) => [name, { type: 'postgresql', config: { url } }]))));
process.stdout.write('started\n');
const run = await engine.execute(parseSyncRule(rule));
process.stdout.write(JSON.stringify(run) + '\n');
await engine.close();
