import { scoped } from '../../core/config-scope.js';
import { Type, type Static } from '@sinclair/typebox';
import {
  DEFAULT_JSON_MAX_DEPTH,
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_XLSX_MAX_INFLATED_BYTES,
  DEFAULT_XLSX_MAX_SHARED_STRINGS_BYTES,
} from '../../formats/types.js';

const Format = Type.Union(
  [Type.Literal('ndjson'), Type.Literal('json'), Type.Literal('csv'), Type.Literal('parquet'), Type.Literal('xlsx'), Type.Literal('xml')],
  {
    request: true,
    examples: ['csv'],
    description:
      'File format; by default taken from the extension (.ndjson/.jsonl, .json, .csv/.tsv, .parquet, .xlsx, .xml). xlsx and xml are read-only (source).',
  },
);

const Csv = Type.Object(
  {
    delimiter: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1,
        description: 'Field delimiter, one ASCII character; `,` by default, tab for .tsv files.',
        examples: [',', ';', '\t'],
      }),
    ),
    quote: Type.String({
      minLength: 1,
      maxLength: 1,
      default: '"',
      description: 'Quote character; a quote inside a quoted field is doubled.',
    }),
    header: Type.Boolean({
      default: true,
      description:
        'The first record holds the column names (read) / write them as the first line (write). Without one, columns are column_1, column_2...',
    }),
    infer_types: Type.Boolean({
      default: true,
      description:
        'Infer column types from a sample at the file start: integers (Float64 when all are safe integers, else Int64), floats, booleans, ISO dates/timestamps (Timestamp ms UTC). When false every column is Utf8.',
    }),
  },
  { additionalProperties: false, request: true, description: 'CSV options.' },
);

const Json = Type.Object(
  {
    max_depth: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: DEFAULT_JSON_MAX_DEPTH,
      description:
        'Deepest nesting of objects and arrays in a record, the record itself being level 1; a deeper record is dead-lettered with the reason (it could not be written out again as JSON text safely).',
    }),
  },
  {
    additionalProperties: false,
    description:
      'NDJSON and JSON array options: `max_depth` (default 64) bounds how deep a record may nest; a deeper one is dead-lettered.',
  },
);

const Xlsx = Type.Object(
  {
    sheet: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })], {
        request: true,
        description:
          'The sheet to read: its name, or its index in the file (0 is the first); the first sheet by default. Its first non-empty row names the columns.',
        examples: ['Orders', 0],
      }),
    ),
    max_inflated_bytes: Type.Integer({
      minimum: 1,
      default: DEFAULT_XLSX_MAX_INFLATED_BYTES,
      description:
        'Bytes the worksheets, shared strings and styles read may inflate to in all (an xlsx is a zip); past it the read fails with an error naming this limit.',
    }),
    max_shared_strings_bytes: Type.Integer({
      minimum: 1,
      default: DEFAULT_XLSX_MAX_SHARED_STRINGS_BYTES,
      description:
        'Bytes the shared strings may inflate to: they are held in memory, about 3 times this size; past it the read fails with an error naming this limit.',
    }),
  },
  {
    additionalProperties: false,
    description:
      'Excel (.xlsx) options. Numbers read as Float64, booleans as Bool, dates as Timestamp ms UTC, formulas as their result; a column mixing kinds is Utf8. `max_shared_strings_bytes` (32 MiB) and `max_inflated_bytes` (1 GiB) bound what the workbook may inflate to.',
  },
);

const Xml = Type.Object(
  {
    record_tag: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'The element holding one record; by default the repeated child element of the root.',
        examples: ['order'],
      }),
    ),
    max_bytes: Type.Integer({
      minimum: 1,
      default: 32 * 1024 * 1024,
      description: 'Largest XML file read: documents are parsed whole, taking about 20 times the file size in memory.',
    }),
  },
  {
    additionalProperties: false,
    description: 'XML options. Child elements and attributes of a record become columns (nested ones dotted), typed like CSV fields.',
  },
);

/** Config of the `file` connector: one schema for both the source and the sink. */
export const FileConfigSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      request: true,
      confined: true,
      description:
        'Source: a file, a directory (its files of the format) or a glob. Sink: the file to write (ndjson, csv) or the directory of part files (parquet).',
      examples: ['data/orders.csv', 'data/in/*.ndjson', 'out/orders/'],
    }),
    format: Type.Optional(Format),
    csv: Type.Optional(Csv),
    ...scoped(
      { role: 'source' },
      {
        json: Type.Optional(Json),
        xlsx: Type.Optional(Xlsx),
        xml: Type.Optional(Xml),
      },
    ),
    batch_size: Type.Optional(
      Type.Integer({
        minimum: 1,
        request: true,
        description: 'Rows per batch read; defaults to the batch size of the topology.',
        examples: [10000],
      }),
    ),
    ...scoped(
      { role: 'source' },
      {
        sample_size: Type.Integer({
          minimum: 1,
          default: 1000,
          request: true,
          description: 'Records at the start of a text file used to infer its schema.',
        }),
        max_record_bytes: Type.Integer({
          minimum: 1,
          default: DEFAULT_MAX_RECORD_BYTES,
          description:
            'Source, CSV/NDJSON/JSON: longest record read. A record still open past it (an unclosed quote, a missing line break), or a quote still open at the end of the file, is dead-lettered from its first line (at most 64 KiB kept) and reading goes on at the next line, so the records after it are read.',
        }),
      },
    ),
    ...scoped(
      { role: 'sink' },
      {
        mode: Type.Union([Type.Literal('overwrite'), Type.Literal('replace'), Type.Literal('append')], {
          default: 'overwrite',
          request: true,
          description:
            'Sink: `overwrite` empties `path` when a fresh run starts and writes as it goes (visible at once: logs, dead letters, unbounded runs); `replace` writes to a hidden sibling (`.<name>.replace-staging`) and renames it over `path` only when the run completes, so a failed, stopped or killed run leaves `path` as it was (bounded runs; a parquet directory must hold only part files); `append` adds to what is there. A resumed run continues where it stopped.',
        }),
        compression: Type.Union([Type.Literal('snappy'), Type.Literal('zstd'), Type.Literal('uncompressed')], {
          default: 'snappy',
          request: true,
          description: 'Sink: parquet compression codec.',
        }),
      },
    ),
  },
  { additionalProperties: false },
);

export type FileConfig = Static<typeof FileConfigSchema>;
