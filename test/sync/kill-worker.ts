// Runs one sync rule in its own process, so a test can kill it with SIGKILL mid-run.
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { datasources, engineFor } from './helpers.js';

const { prefix, sources, rule } = JSON.parse(process.env.SYNC_WORKER!) as { prefix: string; sources: Record<string, string>; rule: unknown };
const engine = engineFor(prefix, datasources(Object.fromEntries(Object.entries(sources).map(([name, url]) => [name, { type: 'postgresql', config: { url } }]))));
process.stdout.write('started\n');
const run = await engine.execute(parseSyncRule(rule));
process.stdout.write(JSON.stringify(run) + '\n');
await engine.close();
