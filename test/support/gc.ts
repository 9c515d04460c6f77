import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// `gc` is exposed to contexts created after the flag is set, so tests need no command-line flag.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full garbage collections after the current jobs end (WeakRefs created in a job hold until its end). */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

/** How many of the objects are still reachable after a full collection. */
export async function stillReachable(refs: WeakRef<object>[]): Promise<number> {
  await collectGarbage();
  return refs.filter((ref) => ref.deref() !== undefined).length;
}
