import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startServer, type TestServer } from './helpers.js';

function multipart(filename: string, content: string | Buffer, fields: Record<string, string> = {}) {
  const boundary = '----sluice-test-boundary';
  const parts = [
    ...Object.entries(fields).map(([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
  ];
  return {
    payload: Buffer.concat([Buffer.from(parts.join('')), Buffer.from(content), Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('file upload of Excel and XML', () => {
  let server: TestServer;
  const upload = (filename: string, content: string | Buffer, fields: Record<string, string> = {}) => {
    const body = multipart(filename, content, fields);
    return server.app.inject({
      method: 'POST',
      url: '/api/v1/files/upload',
      payload: body.payload,
      headers: { ...auth('operator'), 'content-type': body.contentType },
    });
  };
  const read = (source: string) =>
    server.app.inject({ method: 'POST', url: '/api/v1/data/read', payload: { source_name: source }, headers: auth('operator') });

  beforeAll(async () => {
    server = await startServer('pglite');
  });
  afterAll(() => server?.close());

  it('accepts an .xlsx upload, detects its columns and reads it back as a datasource', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Inventory');
    sheet.addRow(['id', 'name', 'seen']);
    sheet.addRow([1, 'vm-ä', new Date(Date.UTC(2024, 0, 2))]);
    sheet.addRow([2, 'vm-b', new Date(Date.UTC(2024, 1, 3))]);
    const response = await upload('inventory.xlsx', Buffer.from(await book.xlsx.writeBuffer()), { datasource_name: 'inventory_xlsx' });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ filename: 'inventory.xlsx', format: 'xlsx', rows_sampled: 2, datasource: 'inventory_xlsx' });
    expect(response.json().columns.map((c: { name: string }) => c.name)).toEqual(['id', 'name', 'seen']);
    expect((await read('inventory_xlsx')).json().rows).toEqual([
      { id: 1, name: 'vm-ä', seen: Date.UTC(2024, 0, 2) },
      { id: 2, name: 'vm-b', seen: Date.UTC(2024, 1, 3) },
    ]);
  });

  it('accepts an .xml upload, detects its columns and reads it back as a datasource', async () => {
    const xml =
      '<?xml version="1.0"?><hosts><host id="7"><name>db-1</name><cpu>2.5</cpu></host><host id="8"><name>db-ü</name></host></hosts>';
    const response = await upload('hosts.xml', xml, { datasource_name: 'hosts_xml' });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ filename: 'hosts.xml', format: 'xml', rows_sampled: 2, datasource: 'hosts_xml' });
    expect(response.json().columns.map((c: { name: string; nullable: boolean }) => [c.name, c.nullable])).toEqual([
      ['id', false],
      ['name', false],
      ['cpu', true],
    ]);
    expect((await read('hosts_xml')).json().rows).toEqual([
      { id: 7, name: 'db-1', cpu: 2.5 },
      { id: 8, name: 'db-ü', cpu: null },
    ]);
  });

  it('still answers 415 for types without a reader, and 422 for a file that does not read as its extension says', async () => {
    expect((await upload('legacy.xls', 'binary')).statusCode).toBe(415);
    const broken = await upload('broken.xml', '<a><b></a>');
    expect(broken.statusCode).toBe(422);
    expect(broken.json().error.message).toMatch(/does not read as xml: .*not well-formed XML/);
  });
});
