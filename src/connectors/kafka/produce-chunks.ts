import type { Message } from 'kafkajs';

/** Bytes of values per produce request, well under the broker's default 1 MiB record batch. */
const MAX_REQUEST_BYTES = 512 * 1024;
/** kafkajs groups a request's messages by partition in time quadratic in their number. */
const MAX_REQUEST_MESSAGES = 1000;

/** Splits messages so one produce request stays under MAX_REQUEST_BYTES of values and MAX_REQUEST_MESSAGES messages. */
export function chunksOf(messages: Message[]): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (typeof m.value === 'string' ? Buffer.byteLength(m.value) : (m.value?.length ?? 0)) + 64;
    if (current.length > 0 && (bytes + size > MAX_REQUEST_BYTES || current.length >= MAX_REQUEST_MESSAGES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
