import { DataType } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { formatFromPath } from '../../src/formats/index.js';
import { readAll, tempDir, writeTemp } from './helpers.js';

const dir = tempDir('sluice-xml-');

const ORDERS = `<?xml version="1.0" encoding="UTF-8"?>
<orders generated="2024-05-01">
  <order id="1" status="paid">
    <customer><name>Zoë &amp; Co</name><city>Zürich</city></customer>
    <amount currency="EUR">10.50</amount>
    <placed>2024-01-02T03:04:05Z</placed>
    <express>true</express>
    <note/>
  </order>
  <order id="2">
    <customer><name>東京商事</name></customer>
    <amount currency="JPY">2000</amount>
    <placed>2024-01-03</placed>
    <express>false</express>
    <note>leave at door</note>
  </order>
</orders>`;

describe('xml reader', () => {
  it('maps child elements and attributes to typed columns, nested ones dotted, missing ones null', async () => {
    const path = writeTemp(dir, 'orders.xml', ORDERS);
    const { chunks, rows, deadLetters } = await readAll(path, 'xml');
    expect(deadLetters).toEqual([]);
    const types = chunks[0].data.schema.fields.map((f) => [f.name, DataType.isTimestamp(f.type) ? 'Timestamp' : String(f.type)]);
    expect(Object.keys(Object.fromEntries(types))).toEqual([
      'id',
      'status',
      'customer.name',
      'customer.city',
      'amount.currency',
      'amount',
      'placed',
      'express',
      'note',
    ]);
    expect(Object.fromEntries(types)).toEqual({
      id: 'Float64',
      status: 'Utf8',
      'customer.name': 'Utf8',
      'customer.city': 'Utf8',
      amount: 'Float64',
      'amount.currency': 'Utf8',
      placed: 'Timestamp',
      express: 'Bool',
      note: 'Utf8',
    });
    expect(rows).toEqual([
      {
        id: 1,
        status: 'paid',
        'customer.name': 'Zoë & Co',
        'customer.city': 'Zürich',
        amount: 10.5,
        'amount.currency': 'EUR',
        placed: Date.UTC(2024, 0, 2, 3, 4, 5),
        express: true,
        note: '',
      },
      {
        id: 2,
        status: null,
        'customer.name': '東京商事',
        'customer.city': null,
        amount: 2000,
        'amount.currency': 'JPY',
        placed: Date.UTC(2024, 0, 3),
        express: false,
        note: 'leave at door',
      },
    ]);
  });

  it('reads the elements named by recordTag anywhere in the document, and keeps @ when an attribute and element share a name', async () => {
    const path = writeTemp(
      dir,
      'nested.xml',
      '<feed><meta><v>1</v></meta><items><item name="attr"><name>elem</name></item><item name="a2"/></items></feed>',
    );
    const { rows } = await readAll(path, 'xml', { xml: { recordTag: 'item' } });
    expect(rows).toEqual([
      { '@name': 'attr', name: 'elem' },
      { '@name': 'a2', name: null },
    ]);
    await expect(readAll(path, 'xml')).rejects.toThrow(
      /cannot tell which child of <feed> is the record element \(<meta>, <items>\); set record_tag/,
    );
  });

  it('a lone record is read too, and an empty root yields no chunk', async () => {
    expect((await readAll(writeTemp(dir, 'one.xml', '<r><row><a>x</a></row></r>'), 'xml')).rows).toEqual([{ a: 'x' }]);
    expect((await readAll(writeTemp(dir, 'empty.xml', '<r/>'), 'xml')).chunks).toEqual([]);
  });

  it('chunks by batchSize, resumes after a chunk position, and dead-letters records that do not fit the inferred types', async () => {
    const items = Array.from({ length: 12 }, (_, i) => `<row><n>${i === 9 ? 'ten' : i + 1}</n></row>`).join('');
    const path = writeTemp(dir, 'rows.xml', `<rows>${items}</rows>`);
    const all = await readAll(path, 'xml', { batchSize: 5, sampleSize: 3, node: 'xml_in' });
    expect(all.chunks.map((c) => c.position)).toEqual([{ record: 5 }, { record: 10 }, { record: 12 }]);
    expect(all.chunks.map((c) => c.data.numRows + c.deadLetters.length)).toEqual([5, 5, 2]);
    expect(all.deadLetters).toEqual([
      { node: 'xml_in', reason: 'column "n": "ten" is not a number (Float64)', record: { n: 'ten' }, origin: { file: path, record: 10 } },
    ]);
    const rest = await readAll(path, 'xml', { batchSize: 5, sampleSize: 3, from: all.chunks[1].position });
    expect(rest.rows).toEqual([{ n: 11 }, { n: 12 }]);
  });

  it('refuses malformed XML and files over the size limit with clear errors', async () => {
    await expect(readAll(writeTemp(dir, 'broken.xml', '<a><b>1</a>'), 'xml')).rejects.toThrow(/is not well-formed XML: .*line 1/);
    await expect(readAll(writeTemp(dir, 'big.xml', ORDERS), 'xml', { xml: { maxBytes: 100 } })).rejects.toThrow(
      /bytes; XML documents are parsed whole and may be at most 100 bytes/,
    );
    expect(formatFromPath('feed.XML')).toBe('xml');
  });
});
