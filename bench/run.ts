/**
 * Benchmark runner: `npm run bench -- <name> [args]` runs bench/<name>.ts, which prints its
 * measurements and, as its last line, `RESULT <name> key=value ...`.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = (await readdir(here)).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}>\n`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(`./${name}.ts`);
