/**
 * Group commit: the writes that arrive in one event-loop turn (sends from the API, messages and receipts read
 * from friends' sessions) run in one transaction, so one fsync (synchronous=FULL) makes all of them durable at
 * once instead of one fsync each. An fsync costs milliseconds and holds the event loop; while it runs, more work
 * queues up in the kernel and lands in the next group, so the groups grow with the load by themselves.
 *
 * Each job writes inside the group's transaction in a savepoint of its own: a job that throws is undone alone
 * and told so. A job is told it is committed only after COMMIT returned, never before, so what it does then
 * (answer the API, send an ack) rests on rows that survive kill -9 and power loss. A COMMIT that fails fails
 * every job of the group: nothing of it is on disk.
 *
 * A group whose jobs all say their rows may be lost in a power cut (a friend's receipts: they come again when we
 * resend) commits without fsync ('process-crash', store-context.ts); one job that needs more makes the whole
 * group fsync'd.
 *
 * When: at the end of the turn in which the first job arrived (DeferToTurnEnd), at once when maxJobs are waiting
 * (bounds the group's memory and how long one commit holds the event loop), or when flush() is called (a frame
 * that must not overtake what arrived before it; closing).
 */
import type { DeferToTurnEnd } from '../../runtime/index.ts';
import type { CommitDurability } from './store-context.ts';

export interface GroupCommitJob {
  /** Default 'power-loss' (fsync'd). */
  readonly durability?: CommitDurability;
  /** Runs inside the group's transaction; a throw undoes this job's writes alone. */
  write(): void;
  /** After the group's COMMIT returned: the job's writes are durable. */
  committed(): void;
  /** This job's write threw, or the group's commit failed: none of its writes are on disk. */
  failed(error: unknown): void;
}

export interface GroupCommitOptions {
  /** Runs fn in a transaction and returns after COMMIT; nested calls are savepoints (ChatStore.transaction). */
  transaction<R>(fn: () => R, durability?: CommitDurability): R;
  defer: DeferToTurnEnd;
  /** A group is committed at once when this many jobs are waiting. */
  maxJobs?: number;
  /** A job's committed() or failed() threw (a listener's bug): reported, the other jobs still run. */
  onCallbackError(error: unknown): void;
}

export const DEFAULT_MAX_GROUP_JOBS = 512;

export class GroupCommit {
  readonly #opts: GroupCommitOptions;
  readonly #maxJobs: number;
  #jobs: GroupCommitJob[] = [];
  #isScheduled = false;
  #isWriting = false;
  #isClosed = false;
  #groups = 0;
  #committedJobs = 0;

  constructor(opts: GroupCommitOptions) {
    this.#opts = opts;
    this.#maxJobs = Math.max(1, opts.maxJobs ?? DEFAULT_MAX_GROUP_JOBS);
  }

  /** Jobs waiting for the next commit. */
  get pendingCount(): number {
    return this.#jobs.length;
  }

  /** Groups committed so far and the jobs they held (their ratio is the jobs per fsync). */
  get stats(): { groups: number; jobs: number } {
    return { groups: this.#groups, jobs: this.#committedJobs };
  }

  add(job: GroupCommitJob): void {
    this.#jobs.push(job);
    // Never a commit inside another job's write: that one's transaction is still open.
    const isNow = !this.#isWriting && (this.#isClosed || this.#jobs.length >= this.#maxJobs);
    if (isNow) this.flush();
    else this.#schedule();
  }

  /** Commits what is waiting now (nothing happens inside a job's write: the group commits right after it). */
  flush(): void {
    if (this.#isWriting || this.#jobs.length === 0) return;
    const jobs = this.#jobs;
    this.#jobs = [];
    const failures = new Map<GroupCommitJob, unknown>();
    const durability = jobs.every((job) => job.durability === 'process-crash')
      ? 'process-crash'
      : 'power-loss';
    this.#isWriting = true;
    try {
      this.#opts.transaction(() => {
        for (const job of jobs) {
          try {
            this.#opts.transaction(() => job.write());
          } catch (error) {
            failures.set(job, error);
          }
        }
      }, durability);
    } catch (error) {
      this.#isWriting = false;
      for (const job of jobs) this.#tell(() => job.failed(error));
      return;
    }
    this.#isWriting = false;
    this.#groups++;
    this.#committedJobs += jobs.length - failures.size;
    for (const job of jobs) {
      if (failures.has(job)) this.#tell(() => job.failed(failures.get(job)));
      else this.#tell(() => job.committed());
    }
  }

  /** Commits what is waiting; from now on every job commits at once. */
  close(): void {
    this.#isClosed = true;
    this.flush();
  }

  #schedule(): void {
    if (this.#isScheduled) return;
    this.#isScheduled = true;
    this.#opts.defer(() => {
      this.#isScheduled = false;
      this.flush();
    });
  }

  #tell(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#opts.onCallbackError(error);
    }
  }
}
