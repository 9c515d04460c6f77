import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { SluiceError } from '../core/errors.js';
import { readWhole, type ByteSource } from './byte-source.js';
import type { CsvFields } from './csv-fields.js';
import { inferCsvLayout } from './csv-types.js';
import { RowChunker } from './row-chunker.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_SAMPLE_SIZE, DEFAULT_XML_MAX_BYTES, type ReadChunk, type ReadOptions } from './types.js';

/** Where an xml reader is: how many record elements have been read. */
export interface XmlPosition {
  record: number;
}

const TEXT = '#text';

type Node = string | Node[] | { [key: string]: Node };

function xmlPosition(position: unknown): XmlPosition {
  if (position === undefined || position === null) return { record: 0 };
  const p = position as Partial<XmlPosition>;
  if (typeof p !== 'object' || !Number.isSafeInteger(p.record) || p.record! < 0) {
    throw new SluiceError('SLUICE_SOURCE_FAILED', `not an xml position: ${JSON.stringify(position)} (expected { record })`, {
      retriable: false,
    });
  }
  return { record: p.record! };
}

function failed(message: string): SluiceError {
  return new SluiceError('SLUICE_SOURCE_FAILED', message, { retriable: false });
}

const isElement = (key: string) => !key.startsWith('@') && key !== TEXT;
const asList = (node: Node): Node[] => (Array.isArray(node) ? node : [node]);

/** The first group of elements named `tag`, searched depth-first from `node`. */
function findTag(node: Node, tag: string): Node[] | undefined {
  if (typeof node !== 'object') return undefined;
  if (!Array.isArray(node) && tag in node) return asList(node[tag]);
  for (const child of Array.isArray(node) ? node : Object.values(node)) {
    const found = findTag(child, tag);
    if (found) return found;
  }
  return undefined;
}

/** The record elements: those named `recordTag`, else the repeated (or only) child element of the root. */
function recordsOf(doc: Record<string, Node>, name: string, recordTag: string | undefined): Node[] {
  const [rootName] = Object.keys(doc);
  if (rootName === undefined) return [];
  const root = doc[rootName];
  if (recordTag !== undefined) return rootName === recordTag ? asList(root) : (findTag(root, recordTag) ?? []);
  if (typeof root !== 'object' || Array.isArray(root)) return [];
  const children = Object.keys(root).filter(isElement);
  const repeated = children.filter((key) => Array.isArray(root[key]));
  if (repeated.length === 1) return root[repeated[0]] as Node[];
  if (repeated.length === 0 && children.length === 1) return [root[children[0]]];
  if (children.length === 0) return [];
  throw failed(
    `${name}: cannot tell which child of <${rootName}> is the record element (${children.map((c) => `<${c}>`).join(', ')}); set record_tag`,
  );
}

/**
 * One record element as flat fields: child elements by name (nested ones dotted, `customer.name`),
 * attributes as `@name` (renamed later when unambiguous), the element's own text as `#text`.
 * A child element repeated inside one record is kept whole, as JSON text.
 */
function flatten(node: Node, prefix: string, out: Map<string, string>): void {
  if (typeof node === 'string') out.set(prefix || TEXT, node);
  else if (Array.isArray(node)) out.set(prefix || TEXT, JSON.stringify(node));
  else {
    // The parser lists attributes after child elements; in the document they come first.
    const entries = Object.entries(node);
    for (const [key, value] of [...entries.filter(([k]) => k.startsWith('@')), ...entries.filter(([k]) => !k.startsWith('@'))]) {
      flatten(value, key === TEXT ? prefix : prefix ? `${prefix}.${key}` : key, out);
    }
  }
}

/** Column names: an attribute drops its `@` unless a child element already has that name. */
function columnNamesOf(keys: string[]): Map<string, string> {
  const taken = new Set(keys);
  return new Map(
    keys.map((key) => {
      const plain = key.replace(/(^|\.)@/g, '$1');
      return [key, plain !== key && !taken.has(plain) ? plain : key];
    }),
  );
}

/**
 * Reads an XML document whose records are repeated elements (`recordTag`, by default the repeated
 * child of the root) as Arrow chunks. Child elements and attributes become columns (see
 * {@link flatten}); their text is typed like CSV fields (integers, floats, booleans, ISO timestamps,
 * else Utf8) from the first `sampleSize` records, and a missing element is null. A record that does
 * not fit the inferred types is dead-lettered. fast-xml-parser does not stream, so the document is
 * parsed whole: files above `maxBytes` (32 MiB by default) are refused before reading.
 *
 * @example
 * for await (const chunk of readXml(localFileSource('orders.xml'), { xml: { recordTag: 'order' } })) { ... }
 */
export async function* readXml(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  const maxBytes = options.xml?.maxBytes ?? DEFAULT_XML_MAX_BYTES;
  const recordTag = options.xml?.recordTag;
  const from = xmlPosition(options.from);
  const node = options.node ?? 'file';

  const { name } = source;
  const { size } = await source.stat();
  if (size > maxBytes)
    throw failed(
      `${name} is ${size} bytes; XML documents are parsed whole and may be at most ${maxBytes} bytes (raise xml.max_bytes, or convert to ndjson)`,
    );
  const text = (await readWhole(source)).toString('utf8');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw failed(`${name} is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    textNodeName: TEXT,
    // Values stay text: types come from the CSV inference, the same rules as CSV files.
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
  });
  const records = recordsOf(parser.parse(text) as Record<string, Node>, name, recordTag);

  const flat = records.map((record) => {
    const fields = new Map<string, string>();
    flatten(record, '', fields);
    return fields;
  });
  const keys = [...new Set(flat.flatMap((fields) => [...fields.keys()]))];
  if (keys.length === 0) return;
  const names = columnNamesOf(keys);
  const rows = flat.map((fields): CsvFields => keys.map((key) => fields.get(key) ?? null));
  const layout = inferCsvLayout(
    keys.map((key) => names.get(key)!),
    rows.slice(0, sampleSize),
    true,
  );
  const chunker = new RowChunker(layout.schema, batchSize);
  for (let i = from.record; i < rows.length; i++) {
    if (options.signal?.aborted) return;
    const values = layout.convert(rows[i]);
    const position = { record: i + 1 };
    const entry = Array.isArray(values)
      ? values
      : {
          node,
          reason: values,
          record: Object.fromEntries([...flat[i]].map(([key, value]) => [names.get(key)!, value])),
          origin: { file: name, record: i + 1 },
        };
    const chunk = chunker.add(entry, position);
    if (chunk) yield chunk;
  }
  const last = chunker.flush();
  if (last && !options.signal?.aborted) yield last;
}
