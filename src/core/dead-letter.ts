/** A record that could not be processed, with why and where it came from. */
export interface DeadLetter {
  /** The topology node that rejected it. */
  node: string;
  reason: string;
  /** The raw record as read (a line of text) or the row as an object. */
  record: unknown;
  /** Where it came from: file and line, topic and offset, table and key... */
  origin?: Record<string, string | number>;
}
