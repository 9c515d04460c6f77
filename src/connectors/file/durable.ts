import { open, type FileHandle } from 'node:fs/promises';
import type { BoundaryScanner } from '../../formats/index.js';

/** Fsyncs a file, or a directory so that file creations and renames in it survive a crash. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const LF = 0x0a;
const READ_BLOCK = 64 * 1024;

/**
 * Cuts a file back to just after its last line feed, dropping a partial line a crash left behind.
 * Returns how many bytes were dropped.
 */
export async function truncatePartialLine(handle: FileHandle): Promise<number> {
  const { size } = await handle.stat();
  let end = size;
  const block = Buffer.alloc(READ_BLOCK);
  while (end > 0) {
    const start = Math.max(0, end - READ_BLOCK);
    const { bytesRead } = await handle.read(block, 0, end - start, start);
    const i = block.subarray(0, bytesRead).lastIndexOf(LF);
    if (i >= 0) {
      end = start + i + 1;
      break;
    }
    end = start;
  }
  if (end < size) {
    await handle.truncate(end);
    await handle.sync();
  }
  return size - end;
}

/**
 * Cuts a file back to just after its last complete record as `scanner` delimits them, dropping a
 * torn record a crash left behind. Unlike {@link truncatePartialLine} this reads the file from the
 * start: in CSV a line feed inside a quoted field ends no record, which only a forward scan can tell.
 * Returns how many bytes were dropped.
 */
export async function truncatePartialRecord(handle: FileHandle, scanner: BoundaryScanner): Promise<number> {
  const { size } = await handle.stat();
  const block = Buffer.alloc(READ_BLOCK);
  let end = 0;
  for (let at = 0; at < size;) {
    const { bytesRead } = await handle.read(block, 0, Math.min(READ_BLOCK, size - at), at);
    const bytes = block.subarray(0, bytesRead);
    for (let i = 0; i < bytes.length;) {
      const next = scanner.scan(bytes, i);
      if (next < 0) break;
      scanner.reset();
      end = at + next;
      i = next;
    }
    at += bytesRead;
  }
  if (end < size) {
    await handle.truncate(end);
    await handle.sync();
  }
  return size - end;
}

/** Writes all of `bytes` at `position`, going on after short writes. */
export async function writeAt(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
