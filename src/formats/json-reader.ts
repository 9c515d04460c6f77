import { SluiceError, errorMessage } from '../core/errors.js';
import type { ByteSource } from './byte-source.js';
import { inferJsonLayout, nestsDeeperThan, notAnObject, type JsonObject } from './json-layout.js';
import { lineScanner, recordText, type BoundaryScanner, type RawRecord } from './raw-records.js';
import { readTextFile, type Parsed, type TextFormat } from './text-reader.js';
import { DEFAULT_JSON_MAX_DEPTH, DEFAULT_SAMPLE_SIZE, type ReadChunk, type ReadOptions } from './types.js';

/**
 * An object record, or why it is bad: not JSON, not an object, or nested deeper than `maxDepth`
 * (deeper values could not be written out again without overflowing the stack).
 */
function parseObject(raw: RawRecord, text: string, line: number, maxDepth: number): Parsed<JsonObject> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'bad', raw, reason: `invalid JSON: ${errorMessage(error)}`, text, line };
  }
  const reason =
    notAnObject(value) ?? (nestsDeeperThan(value, maxDepth) ? `record nests deeper than max_depth (${maxDepth} levels)` : undefined);
  return reason ? { kind: 'bad', raw, reason, text, line } : { kind: 'row', raw, value: value as JsonObject, text, line };
}

/** Newline-delimited JSON: one object per line; blank lines are ignored. */
export function ndjsonFormat(sampleSize = DEFAULT_SAMPLE_SIZE, maxDepth = DEFAULT_JSON_MAX_DEPTH): TextFormat<JsonObject> {
  return {
    scanner: () => lineScanner(),
    parser: () => (raw) => {
      const text = recordText(raw);
      return text.trim() === '' ? undefined : parseObject(raw, text, raw.line, maxDepth);
    },
    layout: (_, sample) => inferJsonLayout(sample, sampleSize),
  };
}

const enum Phase {
  BeforeArray,
  InArray,
  AfterArray,
}

/**
 * Boundaries of the elements of one top-level JSON array: a record ends at each `,` or at the
 * closing `]` on depth 1. Bytes are scanned directly: UTF-8 continuation bytes never look like ASCII.
 */
function arrayScanner(fromStart: boolean): BoundaryScanner {
  let phase = fromStart ? Phase.BeforeArray : Phase.InArray;
  let depth = fromStart ? 0 : 1;
  let inString = false;
  let escaped = false;
  return {
    scan(buf, from) {
      for (let i = from; i < buf.length; i++) {
        const c = buf[i];
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (phase === Phase.BeforeArray) {
          if (c === 0x5b) {
            phase = Phase.InArray;
            depth = 1;
          } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
            throw new SluiceError(
              'SLUICE_SOURCE_FAILED',
              'JSON file does not hold a top-level array (use format ndjson for one object per line)',
              { retriable: false },
            );
          }
          continue;
        }
        if (phase === Phase.AfterArray) continue;
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) {
            phase = Phase.AfterArray;
            return i + 1;
          }
        } else if (c === 0x2c && depth === 1) return i + 1;
      }
      return -1;
    },
    reset() {
      inString = false;
      escaped = false;
      // Between records the scan sits at the array's own level (also after a resynchronisation).
      if (phase === Phase.InArray) depth = 1;
    },
    inQuotes: () => inString,
  };
}

/** A JSON file holding one top-level array of objects, streamed element by element. */
export function jsonArrayFormat(sampleSize = DEFAULT_SAMPLE_SIZE, maxDepth = DEFAULT_JSON_MAX_DEPTH): TextFormat<JsonObject> {
  return {
    scanner: (fromStart) => arrayScanner(fromStart),
    parser(fromStart) {
      let first = fromStart;
      let closed = false;
      return (raw) => {
        let text = raw.bytes.toString('utf8');
        const atStart = first;
        first = false;
        if (closed) {
          return text.trim() === ''
            ? undefined
            : { kind: 'bad', raw, reason: 'content after the closing ] of the array', text: text.trim(), line: raw.line };
        }
        // Strip the array punctuation around the element: `[` before the first, `,` or `]` after each.
        let start = 0;
        if (atStart) start = text.indexOf('[') + 1;
        let end = text.length;
        if (raw.terminated) {
          // The scanner ends a record on `]` only when that closes the array.
          closed = text.endsWith(']');
          end--;
        }
        const skipped = text.slice(start, end);
        const lead = skipped.length - skipped.trimStart().length;
        const line = raw.line + countNewlines(text.slice(0, start + lead));
        text = skipped.trim();
        if (text === '') return undefined;
        if (!raw.terminated) return { kind: 'bad', raw, reason: 'file ends before the closing ] of the array', text, line };
        return parseObject(raw, text, line, maxDepth);
      };
    },
    layout: (_, sample) => inferJsonLayout(sample, sampleSize),
  };
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Streams NDJSON as Arrow chunks. */
export function readNdjson(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  return readTextFile(source, ndjsonFormat(options.sampleSize, options.json?.maxDepth), options);
}

/** Streams a JSON array as Arrow chunks. */
export function readJsonArray(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  return readTextFile(source, jsonArrayFormat(options.sampleSize, options.json?.maxDepth), options);
}
