import type { BoundaryScanner } from './raw-records.js';

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote seen inside a quoted field: the field closes, or it is an escaped quote. */
  QuoteInQuoted,
}

const LF = 0x0a;

/**
 * Record boundaries of CSV: an LF ends a record unless it sits inside a quoted field.
 * A quote inside an unquoted field is taken literally (as most writers produce it).
 */
export function csvScanner(delimiter: string, quote: string): BoundaryScanner {
  const d = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  let state = State.FieldStart;
  return {
    scan(buf, from) {
      for (let i = from; i < buf.length; i++) {
        const c = buf[i];
        switch (state) {
          case State.FieldStart:
            if (c === q) state = State.Quoted;
            else if (c === LF) return i + 1;
            else if (c !== d) state = State.Unquoted;
            break;
          case State.Unquoted:
            if (c === LF) return i + 1;
            if (c === d) state = State.FieldStart;
            break;
          case State.Quoted:
            if (c === q) state = State.QuoteInQuoted;
            break;
          case State.QuoteInQuoted:
            if (c === q) state = State.Quoted;
            else if (c === d) state = State.FieldStart;
            else if (c === LF) return i + 1;
            else state = State.Unquoted;
            break;
        }
      }
      return -1;
    },
    reset() {
      state = State.FieldStart;
    },
    inQuotes: () => state === State.Quoted,
  };
}

/** Fields of one record: a string, or null for an empty unquoted field (a quoted `""` is ''). */
export type CsvFields = (string | null)[];

/**
 * Splits one record's text (terminator removed) into fields, undoubling escaped quotes.
 * Returns a reason instead when the quoting is broken.
 */
export function splitCsvRecord(text: string, delimiter: string, quote: string): CsvFields | string {
  const fields: CsvFields = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text[i] === quote) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const close = text.indexOf(quote, j);
        if (close < 0) return `unclosed quote in field ${fields.length + 1}`;
        value += text.slice(j, close);
        if (text[close + 1] === quote) {
          value += quote;
          j = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      // A carriage return before the line feed was already stripped; anything else is broken.
      if (i < n && text[i] !== delimiter)
        return `unexpected character ${JSON.stringify(text[i])} after closing quote in field ${fields.length + 1}`;
      fields.push(value);
    } else {
      const end = text.indexOf(delimiter, i);
      const stop = end < 0 ? n : end;
      fields.push(stop === i ? null : text.slice(i, stop));
      i = stop;
    }
    if (i >= n) return fields;
    i++; // past the delimiter
    if (i === n) {
      fields.push(null);
      return fields;
    }
  }
}
