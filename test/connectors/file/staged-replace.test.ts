import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StagedReplace } from '../../../src/connectors/file/staged-replace.js';
import type { WriteTarget } from '../../../src/connectors/kit/write-target.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-staged-'));

/** The target's content: a file's text, or a directory's files and their text. */
function contentOf(path: string, kind: 'file' | 'directory'): unknown {
  if (!existsSync(path)) return undefined;
  if (kind === 'file') return readFileSync(path, 'utf8');
  return Object.fromEntries(readdirSync(path).map((name) => [name, readFileSync(join(path, name), 'utf8')]));
}

/** Writes `text` aside, as the file or as one part of the directory. */
function writeAside(target: WriteTarget, kind: 'file' | 'directory', text: string): void {
  writeFileSync(kind === 'file' ? target.staging : join(target.staging, 'part-00000.parquet'), text);
}

describe.each(['file', 'directory'] as const)('StagedReplace as the local write target (%s)', (kind) => {
  const make = (name: string): WriteTarget => {
    const path = join(dir, `${kind}-${name}`);
    if (kind === 'file') writeFileSync(path, 'old');
    else {
      mkdirSync(path);
      writeFileSync(join(path, 'part-00000.parquet'), 'old');
    }
    return new StagedReplace(path, kind);
  };

  it('leaves the target untouched until publish, then shows only the new content', async () => {
    const target = make('publish');
    const before = contentOf(target.target, kind);
    await target.begin(false);
    writeAside(target, kind, 'new');
    expect(contentOf(target.target, kind)).toEqual(before);
    await target.publish();
    expect(contentOf(target.target, kind)).toEqual(kind === 'file' ? 'new' : { 'part-00000.parquet': 'new' });
    expect(existsSync(target.staging)).toBe(false);
  });

  it('abort drops what was written aside and leaves the target as it was', async () => {
    const target = make('abort');
    const before = contentOf(target.target, kind);
    await target.begin(false);
    writeAside(target, kind, 'new');
    await target.abort();
    expect(existsSync(target.staging)).toBe(false);
    expect(contentOf(target.target, kind)).toEqual(before);
    // A run after the abort starts from the target, not from the dropped staging.
    await target.begin(true);
    expect(contentOf(target.staging, kind)).toEqual(before);
  });
});
