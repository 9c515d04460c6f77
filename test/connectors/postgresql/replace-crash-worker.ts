/**
 * A bounded replace pipeline for the crash test, on the runtime: PostgreSQL incremental source →
 * PostgreSQL sink in replace mode, checkpoints in files. Prints the run status as its last line.
 * Usage: worker <src url> <dst url> <checkpoint dir> [kill-after-finish]; with `kill-after-finish`
 * it kills itself (SIGKILL) when the completed run, its replace published, first removes a
 * checkpoint: the crash between `finish()` and the checkpoint deletion.
 */
import { join } from 'node:path';
import '../../../src/connectors/postgresql/index.js';
import '../../../src/connectors/file/index.js';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { FileCheckpointStore } from '../../../src/state/file-checkpoint-store.js';
import { compileTopology } from '../../../src/topology/compile.js';

const [srcUrl, dstUrl, checkpointDir, kill] = process.argv.slice(2);

const topology = compileTopology({
  name: 'replace-crash',
  settings: { batch_size: 100 },
  checkpoint: { store: 'file', path: checkpointDir },
  dead_letter: { type: 'file', config: { path: join(checkpointDir, 'dead-letter.ndjson'), format: 'ndjson' } },
  nodes: {
    src: { type: 'postgresql', config: { url: srcUrl, mode: 'incremental', table: 'src', cursor_column: 'id' } },
    dst: { type: 'postgresql', inputs: ['src'], config: { url: dstUrl, table: 'dst', write_mode: 'replace' } },
  },
});
const checkpoints = new FileCheckpointStore(checkpointDir);
if (kill === 'kill-after-finish') {
  checkpoints.delete = async () => {
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => undefined);
  };
}
const summary = await runTopology(topology, { checkpoints });
await checkpoints.close();
process.stdout.write(`${summary.status} ${summary.error ?? ''}\n`);
process.exit(summary.status === 'completed' ? 0 : 1);
