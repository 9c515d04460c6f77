import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

/**
 * Dependencies point one way (DESIGN.md): cli -> control-plane -> pipeline/sync -> runtime/topology ->
 * connectors/transforms/state/formats -> core. A folder may import its own layer and the ones below.
 */
const LAYER: Record<string, number> = {
  core: 0,
  formats: 1,
  state: 1,
  transforms: 1,
  connectors: 1,
  runtime: 2,
  topology: 2,
  sync: 3,
  pipeline: 3,
  'control-plane': 4,
  cli: 5,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `from` file imports `to` against the direction: `src/connectors/x.ts -> src/sync/y.js`. */
function upwardImports(src: string): string[] {
  return sourceFiles(src).flatMap((file) => {
    const layer = relative(src, file).split('/')[0];
    return [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].flatMap(([, specifier]) => {
      const target = relative(src, resolve(dirname(file), specifier)).split('/')[0];
      const upward = layer in LAYER && target in LAYER && LAYER[target] > LAYER[layer];
      return upward ? [`${relative(ROOT, file)} -> ${specifier}`] : [];
    });
  });
}

describe('layering', () => {
  it('no module imports a layer above its own', () => {
    expect(upwardImports(join(ROOT, 'src'))).toEqual([]);
  });

  it('names an upward import when there is one', () => {
    const src = join(mkdtempSync(join(tmpdir(), 'sluice-layering-')), 'src');
    mkdirSync(join(src, 'connectors', 'pg'), { recursive: true });
    mkdirSync(join(src, 'sync'));
    writeFileSync(
      join(src, 'connectors', 'pg', 'source.ts'),
      "import { KeyState } from '../../sync/key-state.js';\nimport { x } from '../../core/x.js';\n",
    );
    writeFileSync(join(src, 'sync', 'engine.ts'), "import { source } from '../connectors/pg/source.js';\n");
    expect(upwardImports(src).map((line) => line.split(' -> ')[1])).toEqual(['../../sync/key-state.js']);
  });
});
