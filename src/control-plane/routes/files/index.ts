import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Type } from '@sinclair/typebox';
import { SluiceError, errorMessage } from '../../../core/errors.js';
import { formatFromPath, readRecords } from '../../../formats/index.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { errors, JsonObject, Name } from '../../schemas/common.js';
import { detectTypes } from './detect-types.js';
import { profileTable } from '../../../transforms/profile/profiler.js';

const Column = Type.Object({ name: Type.String(), type: Type.String(), nullable: Type.Boolean() });
const SAMPLE_ROWS = 1000;
const UPLOAD_ID = /^[0-9a-f-]{36}$/;

/** A file's detected columns from a sample of its first records, via the format readers. */
async function sampleColumns(path: string, format: NonNullable<ReturnType<typeof formatFromPath>>) {
  // CSV cells are read as text so the detector sees them as written (1 is an int, not a float).
  for await (const chunk of readRecords(path, format, {
    batchSize: SAMPLE_ROWS,
    sampleSize: SAMPLE_ROWS,
    csv: { inferTypes: false, delimiter: extname(path) === '.tsv' ? '\t' : ',' },
  })) {
    const profile = profileTable([chunk.data], { topValues: 0 });
    return {
      rows: chunk.data.numRows,
      columns: profile.columns.map((c) => ({ name: c.name, type: c.inferred_type, nullable: c.null_count > 0 })),
    };
  }
  return { rows: 0, columns: [] };
}

/**
 * The name an upload is stored under: the last segment of what the client sent (either slash),
 * with anything but letters, digits, `.`, `_` and `-` replaced, so it always names a file right
 * inside the upload's own directory.
 */
function storedFileName(sent: string | undefined): string {
  const last = (sent ?? '').split(/[/\\]/).pop() ?? '';
  const safe = last.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^\.*$/.test(safe) ? 'upload' : safe;
}

/** File upload (multipart, size-limited) and type detection. */
export async function fileRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  const uploads = join(cp.workDir, 'uploads');

  app.post(
    '/files/upload',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['files'],
        summary:
          'Upload a data file (multipart field `file`; CSV, TSV, JSON, NDJSON, Parquet, Excel .xlsx, XML); optional field `datasource_name` connects it as a file datasource (a new name, or one this caller uploaded; else 409)',
        consumes: ['multipart/form-data'],
        response: {
          201: Type.Object({
            file_id: Type.String(),
            filename: Type.String(),
            format: Type.String(),
            size_bytes: Type.Integer(),
            rows_sampled: Type.Integer(),
            columns: Type.Array(Column),
            datasource: Type.Optional(Type.String()),
          }),
          ...errors(409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart())
        throw new SluiceError('SLUICE_UNSUPPORTED_MEDIA', 'expected multipart/form-data with a `file` field', {
          issues: [{ path: 'headers.content-type', message: 'expected multipart/form-data' }],
        });
      const part = await request.file().catch((error: Error & { code?: string }) => {
        if (error.code === 'FST_REQ_FILE_TOO_LARGE' || error.code === 'FST_PARTS_LIMIT' || error.code === 'FST_FILES_LIMIT') throw error;
        throw new SluiceError('SLUICE_CONFIG_INVALID', `malformed multipart body: ${error.message}`, {
          issues: [{ path: 'body', message: error.message }],
        });
      });
      if (!part || part.fieldname !== 'file')
        throw new SluiceError('SLUICE_CONFIG_INVALID', 'no `file` field in the upload', {
          issues: [{ path: 'body.file', message: 'required' }],
        });
      const filename = storedFileName(part.filename);
      const format = formatFromPath(filename);
      if (!format) {
        part.file.resume();
        const message = `${extname(filename) || 'no extension'}: supported are .csv, .tsv, .json, .ndjson, .jsonl, .parquet, .xlsx, .xml`;
        throw new SluiceError('SLUICE_UNSUPPORTED_MEDIA', `unsupported file type ${message}`, { issues: [{ path: 'body.file', message }] });
      }
      const fileId = randomUUID();
      const dir = join(uploads, fileId);
      await mkdir(dir, { recursive: true });
      const path = join(dir, filename);
      // A new file (`wx`) in the upload's new directory: never written through an existing file or link.
      await pipeline(part.file, createWriteStream(path, { flags: 'wx' }));
      if (part.file.truncated) {
        await rm(dir, { recursive: true, force: true });
        throw new SluiceError('SLUICE_PAYLOAD_TOO_LARGE', `file larger than ${cp.uploadLimitBytes} bytes`, {
          issues: [{ path: 'body.file', message: `larger than ${cp.uploadLimitBytes} bytes` }],
        });
      }
      let sample;
      try {
        sample = await sampleColumns(path, format);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw new SluiceError('SLUICE_RECORD_INVALID', `the file does not read as ${format}: ${errorMessage(error)}`, {
          issues: [{ path: 'body.file', message: errorMessage(error) }],
        });
      }
      const field = part.fields.datasource_name as { value?: unknown } | undefined;
      const datasource = typeof field?.value === 'string' && field.value ? field.value : undefined;
      if (datasource) {
        try {
          if (!new RegExp(Name.pattern!).test(datasource))
            throw new SluiceError('SLUICE_CONFIG_INVALID', 'invalid datasource_name', {
              issues: [{ path: 'body.datasource_name', message: `must match ${Name.pattern}` }],
            });
          if (!(await cp.state.datasources.upsertUpload(datasource, { path, format }, request.principal.actor))) {
            const message = `datasource '${datasource}' exists and is not an upload of yours: choose another name (only its uploader may replace an upload; an admin reconnects other datasources)`;
            throw new SluiceError('SLUICE_CONFLICT', message, {
              issues: [{ path: 'body.datasource_name', message: 'name taken by a datasource this caller did not upload' }],
            });
          }
        } catch (error) {
          await rm(dir, { recursive: true, force: true });
          throw error;
        }
      }
      await request.audit('file.upload', `file:${fileId}`, { filename, format, datasource });
      return reply.status(201).send({
        file_id: fileId,
        filename,
        format,
        size_bytes: (await stat(path)).size,
        rows_sampled: sample.rows,
        columns: sample.columns,
        ...(datasource ? { datasource } : {}),
      });
    },
  );

  app.post(
    '/files/detect-types',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['files'],
        summary: 'Detect column types of JSON rows (`data`) or of an uploaded file (`file_id`)',
        body: Type.Object(
          {
            data: Type.Optional(Type.Array(JsonObject, { minItems: 1, maxItems: 100_000 })),
            file_id: Type.Optional(Type.String({ pattern: UPLOAD_ID.source })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ rows_sampled: Type.Integer(), columns: Type.Array(Column) }), ...errors(404) },
      },
    },
    async (request) => {
      const { data, file_id } = request.body;
      if (data) return { rows_sampled: data.length, columns: detectTypes(data) };
      if (!file_id)
        throw new SluiceError('SLUICE_CONFIG_INVALID', 'give `data` or `file_id`', {
          issues: [{ path: 'body.data', message: 'data or file_id required' }],
        });
      const dir = join(uploads, file_id);
      const files = await readdir(dir).catch(() => []);
      if (files.length === 0)
        throw new SluiceError('SLUICE_NOT_FOUND', `no upload ${file_id}`, {
          issues: [{ path: 'body.file_id', message: 'upload not found' }],
        });
      const sample = await sampleColumns(join(dir, files[0]), formatFromPath(files[0])!);
      return { rows_sampled: sample.rows, columns: sample.columns };
    },
  );
}
