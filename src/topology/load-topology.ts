import '../register-all.js';
import { compileTopology, type CompiledTopology } from './compile.js';
import { loadTopologyFile } from './load.js';

/** Loads a topology file and compiles it with every registered connector and transform. */
export async function loadTopology(path: string, env: NodeJS.ProcessEnv = process.env): Promise<CompiledTopology> {
  return compileTopology(await loadTopologyFile(path), { env });
}
