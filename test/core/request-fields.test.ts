import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { beforeAll, describe, expect, it } from 'vitest';
import { confinePath } from '../../src/core/confine-path.js';
import { SluiceError } from '../../src/core/errors.js';
import { overlayRequest, requestedFields, screenRequestValue } from '../../src/core/request-fields.js';
import '../../src/register-all.js';

async function refusal(promise: Promise<unknown>): Promise<{ code: string; path: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SluiceError);
  const { code, issues } = error as SluiceError;
  return { code, path: issues[0].path, message: issues[0].message };
}

describe('confinePath', () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-confine-'));
    root = join(dir, 'root');
    outside = join(dir, 'outside');
    mkdirSync(join(root, 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'sub', 'a.csv'), 'x\n1\n');
    writeFileSync(join(outside, 'secret.csv'), 'x\n1\n');
    symlinkSync(join(root, 'sub', 'a.csv'), join(root, 'inner.csv'));
    symlinkSync(join(outside, 'secret.csv'), join(root, 'out.csv'));
    symlinkSync(join(outside, 'new.csv'), join(root, 'dangling.csv'));
    symlinkSync(join(root, 'loop-b'), join(root, 'loop-a'));
    symlinkSync(join(root, 'loop-a'), join(root, 'loop-b'));
  });

  it('resolves paths inside the root, existing or about to be created, and symlinks that stay inside', async () => {
    expect(await confinePath(root, 'sub/a.csv', 'p')).toBe(join(root, 'sub', 'a.csv'));
    expect(await confinePath(root, 'sub/new/b.csv', 'p')).toBe(join(root, 'sub', 'new', 'b.csv'));
    expect(await confinePath(root, 'inner.csv', 'p')).toBe(join(root, 'sub', 'a.csv'));
    expect(await confinePath(`${root}/`, '.', 'p')).toBe(root);
    expect(await confinePath(root, 'parts/', 'p')).toBe(join(root, 'parts/'));
  });

  it.each([
    ['/etc/passwd', 'not an absolute path'],
    ['file:///etc/passwd', 'not an absolute path or URL'],
    ['../outside/secret.csv', "'..'"],
    ['sub\\..\\..\\outside', "'..'"],
    ['sub/*.csv', 'not a pattern'],
    ['out.csv', 'outside the datasource directory'],
    ['dangling.csv', 'outside the datasource directory'],
    ['loop-a', 'outside the datasource directory'],
  ])('refuses %s', async (requested, message) => {
    const refused = await refusal(confinePath(root, requested, 'body.path'));
    expect(refused).toMatchObject({ code: 'SLUICE_FORBIDDEN', path: 'body.path' });
    expect(refused.message).toContain(message);
  });

  it('refuses any path when the root is a file, not a directory', async () => {
    expect((await refusal(confinePath(join(root, 'sub', 'a.csv'), 'a.csv', 'body.path'))).message).toContain('not a directory');
  });
});

describe('overlayRequest', () => {
  const pg = { type: 'postgresql', config: { url: '${env:TEST_OVERLAY_URL}', table: 'orders' } };

  it('lays request fields the schema marks `request: true` over the stored config, whose references it resolves', async () => {
    const config = await overlayRequest(pg, requestedFields({ query: 'select 1', batch_size: 10 }, 'body'), {
      TEST_OVERLAY_URL: 'postgres://db/x',
    });
    expect(config).toEqual({ url: 'postgres://db/x', table: 'orders', query: 'select 1', batch_size: 10 });
  });

  it.each(['url', 'host', 'port', 'user', 'password', 'database', 'mode', 'slot'])(
    'refuses %s from a request with 403 naming the field',
    async (field) => {
      const refused = await refusal(overlayRequest(pg, requestedFields({ [field]: 'x' }, 'body.options'), { TEST_OVERLAY_URL: 'u' }));
      expect(refused).toMatchObject({ code: 'SLUICE_FORBIDDEN', path: `body.options.${field}` });
      expect(refused.message).toContain('it may set: table, query');
    },
  );

  it('refuses ${env: in a request value and never resolves it', async () => {
    const refused = await refusal(
      overlayRequest(pg, requestedFields({ query: "select '${env:TEST_OVERLAY_URL}'" }, 'body'), { TEST_OVERLAY_URL: 'u' }),
    );
    expect(refused).toMatchObject({ code: 'SLUICE_CONFIG_INVALID', path: 'body.query' });
  });

  it('lets a request choose the members of an object an admin left open (xlsx.sheet), never the limits beside them', async () => {
    const book = { type: 'file', config: { path: '/data/books', xlsx: { max_inflated_bytes: 1000 } } };
    const config = await overlayRequest(book, requestedFields({ xlsx: { sheet: 'Orders' } }, 'body.options'));
    expect(config.xlsx).toEqual({ max_inflated_bytes: 1000, sheet: 'Orders' });
    const refused = await refusal(
      overlayRequest(book, requestedFields({ xlsx: { sheet: 'Orders', max_inflated_bytes: 1e12 } }, 'body.options')),
    );
    expect(refused).toMatchObject({ code: 'SLUICE_FORBIDDEN', path: 'body.options.xlsx.max_inflated_bytes' });
    expect(refused.message).toContain('xlsx.sheet');
    expect((await refusal(overlayRequest(book, requestedFields({ xlsx: 'Orders' }, 'body.options')))).path).toBe('body.options.xlsx');
  });
});

describe('screenRequestValue', () => {
  const schema = Type.Object({
    lookups: Type.Array(
      Type.Object({
        source: Type.Union([
          Type.Object({ type: Type.String() }, { request: false }),
          Type.Object({ datasource: Type.String() }, { additionalProperties: false, datasource: true }),
        ]),
      }),
    ),
  });

  it('refuses nodes marked `request: false` and opens datasource references, at any depth', async () => {
    const refused = await refusal(
      screenRequestValue(schema, { lookups: [{ source: { datasource: 'a' } }, { source: { type: 'file' } }] }, 'body.config'),
    );
    expect(refused).toMatchObject({ code: 'SLUICE_FORBIDDEN', path: 'body.config.lookups[1].source' });
    const opened = await screenRequestValue(schema, { lookups: [{ source: { datasource: 'a' } }] }, 'body.config', async (ref, at) => ({
      opened: ref,
      at,
    }));
    expect(opened).toEqual({ lookups: [{ source: { opened: { datasource: 'a' }, at: 'body.config.lookups[0].source' } }] });
  });
});
