import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/register-all.js';
import { registry } from '../../src/core/registry.js';

const SRC = join(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join(SRC, 'connectors') ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Where code outside src/connectors/ decides by a connector type name: a `case '<type>':`, or a
 * `type` compared with one (`ds.type === 'postgresql'`, `'kafka' !== spec.type`). Names in
 * strings, docs and unrelated comparisons (a multipart field called `file`) do not count.
 */
function typeSwitches(code: string, types: string[]): string[] {
  const name = `'(?:${types.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})'`;
  const patterns = [
    new RegExp(`\\bcase\\s+${name}\\s*:`),
    new RegExp(`\\btype\\s*[!=]==?\\s*${name}`),
    new RegExp(`${name}\\s*[!=]==?\\s*[\\w.?]*\\btype\\b`),
  ];
  return code.split('\n').flatMap((line, i) => (patterns.some((p) => p.test(line)) ? [`${i + 1}: ${line.trim()}`] : []));
}

describe('connector capabilities', () => {
  it('finds the kinds of type switch it is meant to catch', () => {
    const types = ['postgresql', 'kafka', 'file'];
    expect(typeSwitches("  return ds.type === 'postgresql' ? a : b;", types)).toHaveLength(1);
    expect(typeSwitches("    case 'file':", types)).toHaveLength(1);
    expect(typeSwitches("if ('kafka' !== source.type) {", types)).toHaveLength(1);
    expect(typeSwitches("if (part.fieldname !== 'file') throw error;", types)).toEqual([]);
    expect(typeSwitches('const message = `a load into postgresql needs table_name`;', types)).toEqual([]);
  });

  it('no file outside src/connectors/ switches on or compares a connector type name', () => {
    const types = [...new Set([...registry.connectorTypes(), 'postgresql', 'kafka', 'file'])];
    const found = sourceFiles(SRC).flatMap((file) =>
      typeSwitches(readFileSync(file, 'utf8'), types).map((hit) => `${relative(SRC, file)}:${hit}`),
    );
    expect(found).toEqual([]);
  });
});
