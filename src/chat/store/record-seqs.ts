/**
 * BEP 44 sequence numbers of the rendezvous records, per friend and epoch (each epoch has its own signing key,
 * and a publisher writes to more than one epoch around a boundary: epoch.ts).
 *
 * Ours: the seq for the next put is computed by epoch.ts's nextRecordSeq from the clock and the last seq, and
 * committed before the put that uses it, so neither a crash nor a clock stepping back can make us publish under
 * a seq storage nodes would refuse (302) or publish two values under one seq.
 * Theirs: the highest seq seen, so a stale record replayed by a storage node is recognised and ignored.
 */
import { nextRecordSeq } from '../epoch.ts';
import { checkPublicKey, type StoreContext } from './store-context.ts';
import { badArgument } from './store-errors.ts';

/** Epochs older than the newest minus this are forgotten when a newer one is written (the table stays small). */
export const RECORD_EPOCHS_KEPT = 4;

type Author = 'own' | 'theirs';

export class RecordSeqs {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Reserves and returns the seq for our next record to this friend in `epoch` (committed on return). */
  nextOwnSeq(contact: Uint8Array, epoch: number): number {
    const key = checkPublicKey(contact, 'contact key');
    checkCounter(epoch, 'epoch');
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('reserving a record seq', () => {
      const seq = nextRecordSeq(now, epoch, this.#last(key, 'own', epoch) ?? -1);
      this.#save(key, 'own', epoch, seq, now);
      return seq;
    });
  }

  /**
   * Notes a record fetched from the friend; returns true when its seq is higher than any seen for that epoch
   * (and remembers it), false for a replay or an older copy.
   */
  noteTheirs(contact: Uint8Array, epoch: number, seq: number): boolean {
    const key = checkPublicKey(contact, 'contact key');
    checkCounter(epoch, 'epoch');
    checkCounter(seq, 'seq');
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('remembering a record seq', () => {
      const last = this.#last(key, 'theirs', epoch);
      if (last !== undefined && seq <= last) return false;
      this.#save(key, 'theirs', epoch, seq, now);
      return true;
    });
  }

  lastOwnSeq(contact: Uint8Array, epoch: number): number | undefined {
    const key = checkPublicKey(contact, 'contact key');
    return this.#ctx.read('reading record seqs', () => this.#last(key, 'own', epoch));
  }

  lastTheirSeq(contact: Uint8Array, epoch: number): number | undefined {
    const key = checkPublicKey(contact, 'contact key');
    return this.#ctx.read('reading record seqs', () => this.#last(key, 'theirs', epoch));
  }

  #last(key: Buffer, author: Author, epoch: number): number | undefined {
    const row = this.#ctx.db
      .prepare('SELECT seq FROM record_seqs WHERE contact = ? AND author = ? AND epoch = ?')
      .get(key, author, epoch);
    return row === undefined ? undefined : Number(row['seq']);
  }

  #save(key: Buffer, author: Author, epoch: number, seq: number, now: number): void {
    const db = this.#ctx.db;
    db.prepare(
      `INSERT INTO record_seqs (contact, author, epoch, seq, updated_ms) VALUES (@key, @author, @epoch, @seq, @now)
       ON CONFLICT (contact, author, epoch) DO UPDATE SET seq = @seq, updated_ms = @now`,
    ).run({ key, author, epoch, seq, now });
    db.prepare('DELETE FROM record_seqs WHERE contact = ? AND author = ? AND epoch < ?').run(
      key,
      author,
      epoch - RECORD_EPOCHS_KEPT,
    );
  }
}

function checkCounter(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw badArgument(`${what} must be a non-negative integer`);
}
