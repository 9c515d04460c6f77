import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { Logger } from '../core/logger.js';
import { SluiceError, isRetriable } from '../core/errors.js';
import type { KeyEntry, KeyState, WriteIntent } from '../state/key-state.js';
import type { AppliedChange, GuardedChange, PgSide } from './pg-side.js';

/**
 * A run that died mid-transaction leaves it in progress until its backend notices the lost
 * client, which takes moments: asked again for a few seconds.
 */
const untilEnded = retry(handleWhen(isRetriable), {
  maxAttempts: 8,
  backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 2_000 }),
});

/** The version a key's state entry had when the run read it (0 when it had none). */
export type VersionOf = (key: string) => number;

/**
 * Writes guarded changes to one side, then moves the state to what was written. A crash between
 * the commit and the state update would leave the side looking changed since the last sync, and
 * its next change on either side would look like a conflict. So before each transaction commits,
 * a write intent names it and the hashes it leaves; the state update drops the intent in the
 * same step, and `recoverWrites` settles the intents of a run that died.
 */
export async function writeRecorded(
  state: KeyState,
  side: PgSide,
  name: WriteIntent['side'],
  changes: GuardedChange[],
  versionOf: VersionOf,
): Promise<AppliedChange[]> {
  const intents: WriteIntent[] = [];
  const applied = await side.apply(changes, async (transaction, written) => {
    const intent: WriteIntent = { side: name, transaction, changes: written.map((c) => [c.key, c.hash ?? null]) };
    await state.recordIntent(intent);
    intents.push(intent);
  });
  await state.settle(
    intents,
    ...stateChanges(
      applied.map((c) => [c.key, c.hash ?? null]),
      versionOf,
    ),
  );
  return applied;
}

/** The state follows what was written: the hash both sides now hold, one version further. */
export async function recordApplied(state: KeyState, applied: AppliedChange[], versionOf: VersionOf): Promise<void> {
  await state.apply(
    ...stateChanges(
      applied.map((c) => [c.key, c.hash ?? null]),
      versionOf,
    ),
  );
}

/**
 * Settles the write intents a dead run left: the state records a write whose transaction
 * committed, as that run would have, and forgets one that did not.
 */
export async function recoverWrites(state: KeyState, sides: Record<WriteIntent['side'], PgSide>, logger: Logger): Promise<void> {
  for (const intent of await state.intents()) {
    const status = await untilEnded.execute(async () => {
      const found = await sides[intent.side].transactionStatus(intent.transaction);
      if (found === 'in progress') {
        throw new SluiceError(
          'SLUICE_SINK_FAILED',
          `a write of an earlier run (transaction ${intent.transaction} on the ${intent.side}) is still in progress`,
          { retriable: true },
        );
      }
      return found;
    });
    if (status === undefined)
      logger.warn(
        { side: intent.side, transaction: intent.transaction },
        'write of an earlier run too old to tell whether it committed: its keys may show as conflicts',
      );
    const changes = status === 'committed' ? intent.changes : [];
    const entries = await state.getMany(changes.map(([key]) => key));
    const versions = new Map(changes.map(([key], i) => [key, entries[i]?.version ?? 0]));
    await state.settle([intent], ...stateChanges(changes, (key) => versions.get(key) ?? 0));
    if (changes.length > 0) logger.info({ side: intent.side, keys: changes.length }, 'recorded the committed write of an earlier run');
  }
}

function stateChanges(changes: Array<[string, string | null]>, versionOf: VersionOf): [Array<[string, KeyEntry]>, string[]] {
  const sets: Array<[string, KeyEntry]> = [];
  const deletes: string[] = [];
  for (const [key, hash] of changes) {
    if (hash === null) deletes.push(key);
    else sets.push([key, { hash, version: versionOf(key) + 1 }]);
  }
  return [sets, deletes];
}
