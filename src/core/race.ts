interface Settle {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** The races each contender is in; a contender is listened to once, however many races it is in. */
const racesOf = new WeakMap<PromiseLike<unknown>, Set<Settle>>();

/**
 * `Promise.race` that a long-lived contender does not make leak. `Promise.race` adds a reaction
 * to every contender, and a contender that stays pending keeps each of those reactions, and so
 * each race's result, reachable: racing an abort promise of a whole session against every
 * incoming frame keeps every frame. Here a contender gets one reaction for its lifetime, which
 * settles the races it is in at that moment; a race that ends leaves every contender, so a
 * pending contender holds only the races still waiting on it.
 *
 * Same result as `Promise.race`: the first contender to settle, fulfilled or rejected, and
 * among contenders already settled the first one listed.
 *
 * @example
 * const stopped = new Promise<'stopped'>((resolve) => signal.addEventListener('abort', () => resolve('stopped')));
 * for (;;) {
 *   const next = await race([frames.next(), stopped]);
 *   if (next === 'stopped') break;
 * }
 */
export function race<T>(contenders: Iterable<T>): Promise<Awaited<T>> {
  const joined: Set<Settle>[] = [];
  return new Promise<Awaited<T>>((resolve, reject) => {
    const leave = () => {
      for (const races of joined) races.delete(settle);
    };
    const settle: Settle = {
      resolve: (value) => {
        leave();
        resolve(value as Awaited<T>);
      },
      reject: (reason) => {
        leave();
        reject(reason);
      },
    };
    for (const contender of contenders) {
      if (!isPromiseLike(contender)) {
        Promise.resolve(contender).then(settle.resolve, settle.reject);
        continue;
      }
      const races = racesOf.get(contender) ?? listen(contender);
      races.add(settle);
      joined.push(races);
    }
  });
}

/** The one reaction of a contender: settles the races it is in, then forgets them. */
function listen(contender: PromiseLike<unknown>): Set<Settle> {
  const races = new Set<Settle>();
  racesOf.set(contender, races);
  const settleAll = (outcome: (settle: Settle) => void) => {
    // Later races on a settled contender listen again: its reaction then runs at once.
    racesOf.delete(contender);
    for (const settle of [...races]) outcome(settle);
    races.clear();
  };
  contender.then(
    (value) => settleAll((s) => s.resolve(value)),
    (reason: unknown) => settleAll((s) => s.reject(reason)),
  );
  return races;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
