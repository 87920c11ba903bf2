/**
 * Which piece to ask which source for. A transfer may have several sources at once (the friend who offered it;
 * in a group, every member who has pieces), each with what it has: everything, or a bitfield. Pieces go out
 * lowest first (the partial file fills front to back), each to one source at a time. A piece that failed its
 * hash check is counted against the source that sent it and asked of another source when one has it, else of
 * the same one again; a source with MAX_BAD_PIECES bad pieces is banned from the transfer. Pure bookkeeping:
 * no I/O, no time.
 */
import type { Bitfield } from './bitfield.ts';

/** Bad pieces a source may send before it is dropped from the transfer. */
export const MAX_BAD_PIECES = 3;

export type SourceHas = 'all' | Bitfield;

interface SourceState {
  has: SourceHas;
  inFlight: Set<number>;
  badPieces: number;
}

export class PieceScheduler {
  readonly #done: Bitfield;
  readonly #sources = new Map<string, SourceState>();
  /** Piece → the source it is asked of. */
  readonly #inFlight = new Map<number, string>();
  /** Piece → sources that sent a bad copy of it (asked again only when nobody else has it). */
  readonly #avoid = new Map<number, Set<string>>();
  readonly #banned = new Set<string>();
  /** Pieces verified and being written (not in done yet): never asked again meanwhile. */
  readonly #writing = new Set<number>();
  /** No piece below this is both missing and free (a hint that keeps next() from rescanning the start). */
  #cursor = 0;
  readonly #maxBadPieces: number;

  /**
   * done: the pieces we hold (the scheduler reads it; the owner sets pieces as they are written); maxBadPieces:
   * how many wrong pieces ban a source (MAX_BAD_PIECES; a group's transfer, with other sources, says 1).
   */
  constructor(done: Bitfield, maxBadPieces = MAX_BAD_PIECES) {
    this.#done = done;
    this.#maxBadPieces = maxBadPieces;
  }

  addSource(id: string, has: SourceHas): boolean {
    if (this.#banned.has(id)) return false;
    this.#sources.set(id, { has, inFlight: new Set(), badPieces: 0 });
    return true;
  }

  /** The source is gone: the pieces it had in flight are free again. */
  removeSource(id: string): void {
    const source = this.#sources.get(id);
    if (source === undefined) return;
    for (const index of source.inFlight) this.#release(index);
    this.#sources.delete(id);
  }

  isBanned(id: string): boolean {
    return this.#banned.has(id);
  }

  inFlightOf(id: string): number {
    return this.#sources.get(id)?.inFlight.size ?? 0;
  }

  /** The next piece to ask source id for, marked in flight; undefined when there is none for it now. */
  next(id: string): number | undefined {
    const source = this.#sources.get(id);
    if (source === undefined) return undefined;
    let isCursorFixed = false;
    for (
      let index = this.#done.nextMissing(this.#cursor);
      index !== undefined;
      index = this.#done.nextMissing(index + 1)
    ) {
      if (this.#inFlight.has(index) || this.#writing.has(index)) continue;
      if (!isCursorFixed) {
        this.#cursor = index;
        isCursorFixed = true;
      }
      if (!hasPiece(source.has, index)) continue;
      if (this.#avoid.get(index)?.has(id) === true && this.#someoneElseHas(index, id)) continue;
      this.#inFlight.set(index, id);
      source.inFlight.add(index);
      return index;
    }
    return undefined;
  }

  /** True when piece index is in flight from source id (a piece nobody asked for is a protocol violation). */
  isExpected(id: string, index: number): boolean {
    return this.#inFlight.get(index) === id;
  }

  /** The piece arrived and verified (it is written by the owner, who then sets it in done and calls onWritten). */
  onGood(id: string, index: number): void {
    if (this.#inFlight.get(index) !== id) return;
    this.#inFlight.delete(index);
    this.#writing.add(index);
    this.#sources.get(id)?.inFlight.delete(index);
    this.#avoid.delete(index);
  }

  /**
   * The piece failed verification: it is free again (asked of another source if one has it) and counted
   * against id. True when id is now banned (the owner drops its stream).
   */
  onBad(id: string, index: number): boolean {
    const source = this.#sources.get(id);
    if (this.#inFlight.get(index) === id) this.#release(index);
    let avoid = this.#avoid.get(index);
    if (avoid === undefined) {
      avoid = new Set();
      this.#avoid.set(index, avoid);
    }
    avoid.add(id);
    if (source === undefined) return this.#banned.has(id);
    source.badPieces++;
    if (source.badPieces < this.#maxBadPieces) return false;
    this.ban(id);
    return true;
  }

  /** Drops a source for good (bad pieces, or a hash list that is not the root's). */
  ban(id: string): void {
    this.#banned.add(id);
    this.removeSource(id);
  }

  /** The piece is on the disk (set in done): it was held from the time it verified. */
  onWritten(index: number): void {
    this.#writing.delete(index);
  }

  /** A piece written but later found missing (it failed to write): asked for again. */
  onLost(index: number): void {
    this.#writing.delete(index);
    this.#release(index);
  }

  #release(index: number): void {
    const owner = this.#inFlight.get(index);
    if (owner !== undefined) this.#sources.get(owner)?.inFlight.delete(index);
    this.#inFlight.delete(index);
    if (index < this.#cursor) this.#cursor = index;
  }

  #someoneElseHas(index: number, except: string): boolean {
    for (const [id, source] of this.#sources) {
      if (id !== except && hasPiece(source.has, index) && this.#avoid.get(index)?.has(id) !== true)
        return true;
    }
    return false;
  }
}

function hasPiece(has: SourceHas, index: number): boolean {
  return has === 'all' || has.has(index);
}
