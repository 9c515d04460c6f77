/**
 * Output that readers see whole or not at all: a run writes aside, into `staging`, and only
 * `publish()` makes that the target's content, in one step. Until then the target is untouched, so
 * a run that fails, is killed or is aborted leaves it exactly as it was.
 *
 * Local files ({@link StagedReplace}): the staging is a hidden sibling, published by rename. An
 * object store: the staging is a multipart upload to the target key (the sink uploads its parts;
 * publishing completes the upload, aborting aborts it), or a prefix of part objects copied into
 * place by publish.
 *
 * @example
 * await target.recover();
 * await target.begin(resuming);
 * // ... write every batch under target.staging ...
 * await target.publish();
 */
export interface WriteTarget {
  /** What readers see: a path, an object's URL. */
  readonly target: string;
  /** Where a run writes: a path, an upload or a key prefix. */
  readonly staging: string;
  /** Completes a publish a crash interrupted, so that the target is whole again. Run first. */
  recover(): Promise<void>;
  /**
   * Prepares the staging for a run. A fresh run starts it empty. A resumed run continues the
   * staging it left; when there is none, the interrupted run had already published (it crashed
   * before its checkpoints were removed), so the staging starts as a copy of the published target.
   */
  begin(resuming: boolean): Promise<void>;
  /** Makes the staging, written durably, the target's content; old content goes only once the new is in place. */
  publish(): Promise<void>;
  /** Drops the staging; the target stays as it was. */
  abort(): Promise<void>;
}
