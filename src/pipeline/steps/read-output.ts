import { readFile } from 'node:fs/promises';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { outputParts } from '../step-output.js';

/** The batches of a published step output, one part file in memory at a time. */
export async function* readOutput(dir: string, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
  for (const file of await outputParts(dir)) {
    if (signal?.aborted) return;
    yield* tableFromIPC(await readFile(file)).batches;
  }
}
