/**
 * File transfers with friends (docs/PROTOCOL.md "Files"): offers and their outcomes travel as chat frames on
 * the session; the bytes travel on file streams of their own (file-stream.ts) that the receiver dials to the
 * sender, beside the session.
 *
 *   sender                                   receiver
 *   send-file: hash the file, save the row
 *   file-offer (every new session, until the receiver's outcome is known) ─▶  saved as `offered`, shown
 *                                            accept-file: `accepted`; dials a file stream (download.ts)
 *   piece-server.ts serves hashes, pieces ◀── open, get-hashes, get-piece … done
 *   ◀── file-state complete | declined | canceled (also the answer to an offer whose outcome is known)
 *
 * The sender keeps offering (and re-sending its own cancel, `file-state canceled`, or `unavailable` when the
 * file is gone) on every session until the receiver has answered with its outcome (`isSettled`); the receiver
 * answers every offer whose outcome it knows. So a cancel or a completion seen by one side reaches the other
 * whenever they next talk, and either may restart at any moment: the receiver resumes from its saved bitfield,
 * the sender serves from the path it saved.
 *
 * Limits (anything a friend can make us spend): offers are taken only from friends whose session said version
 * ≥ 3; at most MAX_PENDING_OFFERS undecided offers per friend (more are declined unsaved), MAX_FINISHED_KEPT
 * finished incoming rows per friend; nothing is written to the disk before the user accepts; an offer over
 * maxBytes is declined (`too-large`); at most MAX_DOWNLOADS_PER_PEER downloads run per friend (the rest wait),
 * MAX_SERVED_PER_PEER streams served per friend and MAX_SERVED in all (more are refused `busy`).
 *
 * Groups (docs/PROTOCOL.md "Group files"): a file sent to a group is announced as a signed group message (the
 * group service delivers it to every member, offline ones through the DHT mailbox), not as a file-offer frame;
 * no file-state frames go either way. A member's download dials EVERY current member with an open session (the
 * author, and members who completed it) and takes pieces from all that serve it; a member that refuses (it
 * has no copy yet) is asked again later (source-dials.ts), and members whose sessions come up later are added. A
 * member that completed a group file serves it to any current member of that group (checked when a stream
 * opens; a removed member's streams are closed), within the same serve limits.
 */
import { basename, dirname, join } from 'node:path';
import type { UtpEndpoint } from '../../net/index.ts';
import type { Clock, Logger, Random } from '../../runtime/index.ts';
import { encodeFriendCode } from '../friend-code.ts';
import type { Identity } from '../identity.ts';
import { FILE_FRAME_VERSION, type ChatFrame, type FileStateName } from '../session/frames.ts';
import type { ChatSession } from '../session/session.ts';
import type { ChatStore } from '../store/chat-store.ts';
import { FINAL_TRANSFER_STATES, type StoredTransfer } from '../store/file-transfer-rows.ts';
import { Download, DownloadFailure, type SourceStats } from './download.ts';
import { FileErrorCode, fileError } from './file-errors.ts';
import {
  MAX_FILE_FRAME_BYTES,
  MAX_REQUEST_FRAME_BYTES,
  RefuseReason,
  TRANSFER_ID_BYTES,
} from './file-frames.ts';
import { hashFile } from './file-hashing.ts';
import { layoutOf, pieceLength } from './file-layout.ts';
import {
  FILE_CHANNEL,
  FileStream,
  type FileStreamCloseReason,
  type FileStreamContext,
} from './file-stream.ts';
import type { FileSystem } from './file-system.ts';
import { PieceServer, type ServeDecision } from './piece-server.ts';
import { RateMeter } from './rate-meter.ts';
import { safeFileName } from './safe-name.ts';
import { decideServe } from './serve-decision.ts';
import { SourceDials } from './source-dials.ts';
import { SourceLink } from './source-link.ts';
import type { GroupFileOffer } from '../groups/group-file-offer.ts';
import type { FileTransferView, TransferViewState } from './transfer-view.ts';
import { Bitfield } from './bitfield.ts';

export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 ** 3;
export const MAX_PENDING_OFFERS = 16;
export const MAX_FINISHED_KEPT = 200;
export const MAX_DOWNLOADS_PER_PEER = 4;
export const MAX_SERVED_PER_PEER = 8;
export const MAX_SERVED = 64;
/** Progress events per transfer at most this often (state changes go out at once). */
const PROGRESS_EVENT_MS = 250;
const LIST_LIMIT = 500;

export interface FileTransfersOptions {
  store: ChatStore;
  fs: FileSystem;
  utp: UtpEndpoint;
  identity: Identity;
  clock: Clock;
  random: Random;
  logger: Logger;
  handshakeTimeoutMs: number;
  /** Where accepted files go by default; undefined: this node receives no files (offers are declined). */
  downloadsDir: string | undefined;
  /** The largest file we accept (default 4 GiB). */
  maxBytes?: number;
  /** Our open chat session with a friend. */
  sessionOf(peer: Buffer): ChatSession | undefined;
  isFriend(peer: Buffer): boolean;
  onTransfer(view: FileTransferView): void;
  /** The groups we are in (undefined: no group files). */
  groups?: GroupFilesHost;
  /** Options for downloads (tests shorten checkpoints). */
  download?: { windowBytes?: number; checkpointBytes?: number; checkpointMs?: number };
  streamIdleMs?: number;
}

/** What the file layer needs of the groups we are in (ChatNode wires GroupService). */
export interface GroupFilesHost {
  /** Is peer a current member of this group, and are we? */
  isCurrentMember(groupId: Buffer, peer: Buffer): boolean;
  /** The other current members; undefined when we are no member. */
  otherMembers(groupId: Buffer): Buffer[] | undefined;
  /** Does peer share some group with us (may it dial our file channel)? */
  sharesGroup(peer: Buffer): boolean;
  /** Announces the offer to the group as a signed message (throws as a group send does). */
  announce(groupId: Buffer, offer: GroupFileOffer): void;
}

interface DownloadEntry {
  download: Download | undefined;
  /** Set while the download opens. */
  isBusy: boolean;
  dials: SourceDials;
}

export class FileTransfers {
  readonly #opts: FileTransfersOptions;
  readonly #streamCtx: FileStreamContext;
  /** Sessions whose peer said (hello) it speaks files. */
  readonly #fileSessions = new WeakSet<ChatSession>();
  readonly #downloads = new Map<number, DownloadEntry>();
  readonly #servers = new Set<PieceServer>();
  readonly #meters = new Map<number, RateMeter>();
  readonly #sentPieces = new Map<number, { pieces: Set<number>; bytes: number }>();
  readonly #lastEventMs = new Map<number, number>();
  /** The per-source counters of downloads that ended since we started (the newest LIST_LIMIT), for the view. */
  readonly #endedSources = new Map<number, SourceStats[]>();
  /** The transfer (local id) each open server serves (set when the receiver named one we serve). */
  readonly #servedIds = new WeakMap<PieceServer, number>();
  /** Servers of a group file we received (whole or in part): what they send is no progress of that transfer. */
  readonly #relaying = new WeakSet<PieceServer>();
  #isClosed = false;

  constructor(opts: FileTransfersOptions) {
    this.#opts = opts;
    this.#streamCtx = {
      identity: opts.identity,
      clock: opts.clock,
      random: opts.random,
      logger: opts.logger,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      ...(opts.streamIdleMs === undefined ? {} : { idleMs: opts.streamIdleMs }),
    };
  }

  get #rows() {
    return this.#opts.store.files;
  }

  get maxBytes(): number {
    return this.#opts.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    for (const server of this.#servers) server.close();
    const closing: Promise<void>[] = [];
    for (const entry of this.#downloads.values()) {
      entry.dials.close();
      if (entry.download !== undefined) closing.push(entry.download.close());
    }
    this.#downloads.clear();
    await Promise.all(closing);
  }

  // ── the chat session's side ──────────────────────────────────────────────────────────────────────────

  /** The friend's hello: from version 3 on it speaks files; offers and outcomes go out, downloads resume. */
  onHello(peer: Buffer, session: ChatSession, version: number): void {
    if (version < FILE_FRAME_VERSION || this.#isClosed || this.#fileSessions.has(session)) return;
    this.#fileSessions.add(session);
    for (const row of this.#rows.list({ peer, direction: 'outgoing' })) {
      if (!row.isSettled) this.#tellReceiver(session, row);
    }
    for (const row of this.#rows.list({ peer, direction: 'incoming', states: ['accepted'] })) {
      this.#ensureDownload(row);
    }
  }

  /** A file-offer or file-state frame from a friend's session. */
  onFrame(peer: Buffer, session: ChatSession, frame: ChatFrame): void {
    if (this.#isClosed) return;
    try {
      if (frame.type === 'file-offer') this.#onOffer(peer, session, frame);
      else if (frame.type === 'file-state') this.#onState(peer, session, frame.transferId, frame.state);
    } catch (error) {
      this.#opts.logger.warn({ error: String(error) }, 'file frame handling failed');
    }
  }

  /** A file stream a friend dialled (SessionManager.onChannelStream): true when taken. */
  acceptStream(peer: Buffer, session: ChatSession): boolean {
    if (session.channel !== FILE_CHANNEL || this.#isClosed) return false;
    if (!this.#opts.isFriend(peer) && this.#opts.groups?.sharesGroup(peer) !== true) return false;
    const stream = FileStream.accepted(
      this.#streamCtx,
      session.detach(),
      peer,
      session.remoteAddress,
      MAX_REQUEST_FRAME_BYTES,
    );
    const perPeer = [...this.#servers].filter((s) => s.peer.equals(peer)).length;
    if (perPeer >= MAX_SERVED_PER_PEER || this.#servers.size >= MAX_SERVED) {
      stream.start({ onFrame: () => {}, onClose: () => {} });
      stream.refuse(RefuseReason.busy);
      return true;
    }
    const server = new PieceServer(stream, {
      fs: this.#opts.fs,
      clock: this.#opts.clock,
      logger: this.#opts.logger,
      events: {
        resolve: (p, id, s) => this.#resolveServe(p, id, s),
        onOpened: (s) => this.#onServing(s),
        onSent: (s, index, bytes) => this.#onSent(s, index, bytes),
        onDone: (s) => this.#onReceiverDone(s),
        onUnavailable: (s, detail) => this.#onUnavailable(s, detail),
        onMissing: (s) => this.#onMissing(s),
        onClose: (s) => this.#onServerClosed(s),
      },
    });
    this.#servers.add(server);
    return true;
  }

  // ── commands ─────────────────────────────────────────────────────────────────────────────────────────

  /** Offers a file to a friend: hashed now, offered on the session (now, or when one comes up). */
  async send(peer: Buffer, path: string): Promise<FileTransferView> {
    const hashed = await hashFile(this.#opts.fs, path);
    const name = safeFileName(path);
    // The same content offered again to the same friend, not yet finished: the offer continues (a moved file).
    const same = this.#rows
      .list({ peer, direction: 'outgoing', states: ['offered', 'accepted'] })
      .find((row) => row.root.equals(hashed.root));
    let row: StoredTransfer;
    if (same !== undefined) {
      this.#rows.setPath(same.localId, path, hashed.modifiedMs);
      row = this.#rows.setState(same.localId, same.state);
    } else {
      row = this.#rows.insert({
        id: this.#opts.random.bytes(TRANSFER_ID_BYTES),
        peer,
        direction: 'outgoing',
        name,
        sizeBytes: hashed.layout.sizeBytes,
        pieceBytes: hashed.layout.pieceBytes,
        root: hashed.root,
        state: 'offered',
        path,
        sourceModifiedMs: hashed.modifiedMs,
        hashes: hashed.hashes,
      });
    }
    const session = this.#fileSessionOf(peer);
    if (session !== undefined) this.#tellReceiver(session, row);
    return this.#emit(row, true);
  }

  /**
   * Offers a file to a group: hashed now, announced as a signed group message (every member, offline ones
   * later). The same content offered to the same group, not yet finished, continues the old offer unannounced.
   */
  async sendToGroup(groupId: Buffer, path: string): Promise<FileTransferView> {
    const groups = this.#groupsHost();
    const hashed = await hashFile(this.#opts.fs, path);
    const own = this.#opts.identity.publicKey;
    const same = this.#rows
      .list({ peer: own, direction: 'outgoing', states: ['offered', 'accepted'] })
      .find((row) => row.group?.equals(groupId) === true && row.root.equals(hashed.root));
    if (same !== undefined) {
      this.#rows.setPath(same.localId, path, hashed.modifiedMs);
      return this.#emit(this.#rows.setState(same.localId, same.state), true);
    }
    const id = this.#opts.random.bytes(TRANSFER_ID_BYTES);
    const name = safeFileName(path);
    const { sizeBytes, pieceBytes } = hashed.layout;
    // Announced first: a group that will not take it (no key yet, not a member) leaves no row behind.
    groups.announce(groupId, { transferId: id, sizeBytes, pieceBytes, root: hashed.root, name });
    const row = this.#rows.insert({
      id,
      peer: own,
      direction: 'outgoing',
      name,
      sizeBytes,
      pieceBytes,
      root: hashed.root,
      state: 'offered',
      path,
      sourceModifiedMs: hashed.modifiedMs,
      hashes: hashed.hashes,
      group: groupId,
    });
    return this.#emit(row, true);
  }

  /** A member's file offer in a group (GroupService: a file-offer message, signed by its author). */
  onGroupOffer(groupId: Buffer, author: Buffer, offer: GroupFileOffer): void {
    if (this.#isClosed || author.equals(this.#opts.identity.publicKey)) return;
    try {
      if (this.#rows.get(author, offer.transferId) !== undefined) return;
      if (this.#opts.downloadsDir === undefined) return;
      if (this.#rows.count(author, 'incoming', ['offered']) >= MAX_PENDING_OFFERS) return;
      this.#emit(this.#saveOffer(author, offer, groupId), true);
    } catch (error) {
      this.#opts.logger.warn({ error: String(error) }, 'group file offer handling failed');
    }
  }

  /** A session came up (a friend's or a member's): group downloads that may fetch from that peer dial it. */
  onSessionUp(peer: Buffer): void {
    if (this.#isClosed || this.#opts.groups === undefined) return;
    for (const row of this.#rows.list({ direction: 'incoming', states: ['accepted'] })) {
      if (row.group === undefined || !this.#opts.groups.isCurrentMember(row.group, peer)) continue;
      const entry = this.#downloads.get(row.localId);
      if (entry === undefined) this.#ensureDownload(row);
      else if (!entry.isBusy) entry.dials.dial(peer);
    }
  }

  /** A member left or was removed: what we serve it of that group's files stops now. */
  onMemberGone(groupId: Buffer, peer: Buffer): void {
    for (const server of this.#servers) {
      if (!server.peer.equals(peer)) continue;
      const row = this.#serverRow(server);
      if (row?.group?.equals(groupId) === true) server.close(RefuseReason.unknown);
    }
  }

  #groupsHost(): GroupFilesHost {
    const groups = this.#opts.groups;
    if (groups === undefined) throw fileError(FileErrorCode.badState, 'this node has no groups');
    return groups;
  }

  /** Accepts an offer: into the downloads dir, or `to` (an existing directory, or a new file's path). */
  async accept(row: StoredTransfer, to?: string): Promise<FileTransferView> {
    if (row.direction !== 'incoming')
      throw fileError(FileErrorCode.badState, 'that is your own offer: the friend accepts it');
    if (row.state !== 'offered')
      throw fileError(FileErrorCode.badState, `the transfer is ${row.state}, not offered`);
    if (row.sizeBytes > this.maxBytes) {
      throw fileError(FileErrorCode.tooLarge, `${row.sizeBytes} bytes is over the limit of ${this.maxBytes}`);
    }
    if (row.group !== undefined && this.#opts.groups?.otherMembers(row.group) === undefined) {
      throw fileError(FileErrorCode.badState, 'you are no longer a member of the group it was offered in');
    }
    const downloads = this.#opts.downloadsDir;
    if (downloads === undefined && to === undefined) {
      throw fileError(FileErrorCode.receivingDisabled, 'this node has no downloads directory');
    }
    const { fs } = this.#opts;
    let dir: string;
    let name = row.name;
    if (to === undefined) {
      dir = downloads as string;
      await fs.makeDirectory(dir);
    } else {
      const info = await fs.stat(to).catch(() => undefined);
      if (info?.isDirectory === true) dir = to;
      else if (info !== undefined)
        throw fileError(FileErrorCode.target, `${to} exists: a received file never replaces one`);
      else {
        // The user's own choice of name (not remote input): kept as typed.
        dir = dirname(to);
        name = basename(to);
        const parent = await fs.stat(dir).catch(() => undefined);
        if (parent?.isDirectory !== true)
          throw fileError(FileErrorCode.target, `no directory ${dir} to save into`);
      }
    }
    const partPath = join(dir, `${name}.${row.id.toString('hex').slice(0, 8)}.part`);
    const accepted = this.#rows.setAccepted(row.localId, { dir, partPath });
    const renamed = name === row.name ? accepted : this.#renamed(accepted, name);
    this.#ensureDownload(renamed);
    return this.#emit(renamed, true);
  }

  /** Cancels either side's transfer (declines an offer not yet accepted); the other side is told. */
  async cancel(row: StoredTransfer): Promise<FileTransferView> {
    if (FINAL_TRANSFER_STATES.has(row.state)) {
      throw fileError(FileErrorCode.badState, `the transfer is already ${row.state}`);
    }
    // A group's transfer has no one peer to tell: members learn it when they ask for pieces.
    const session = row.group === undefined ? this.#fileSessionOf(row.peer) : undefined;
    if (row.direction === 'outgoing') {
      const canceled = this.#rows.setState(row.localId, 'canceled', 'you');
      this.#rows.setSettled(row.localId, false);
      for (const server of this.#servers)
        if (this.#servedIds.get(server) === row.localId) server.close(RefuseReason.canceled);
      session?.send({ type: 'file-state', transferId: row.id, state: 'canceled' });
      return this.#emit(canceled, true);
    }
    const state = row.state === 'offered' ? 'declined' : 'canceled';
    for (const server of this.#servers) if (this.#servedIds.get(server) === row.localId) server.close();
    await this.#stopDownload(row.localId, true);
    const done = this.#rows.setState(row.localId, state, 'you');
    session?.send({ type: 'file-state', transferId: row.id, state });
    return this.#emit(done, true);
  }

  /** Newest first. */
  list(): FileTransferView[] {
    return this.#rows.list({ limit: LIST_LIMIT }).map((row) => this.#view(row));
  }

  view(row: StoredTransfer): FileTransferView {
    return this.#view(row);
  }

  /** A transfer by id or unique id prefix (at least 4 hex digits). */
  find(idOrPrefix: string): StoredTransfer {
    const prefix = idOrPrefix.trim().toLowerCase();
    if (!/^[0-9a-f]{4,32}$/.test(prefix)) {
      throw fileError(
        FileErrorCode.unknownTransfer,
        `"${idOrPrefix}" is not a transfer id (4-32 hex digits)`,
      );
    }
    const found = this.#rows.findByIdPrefix(prefix, 2);
    if (found.length === 0) throw fileError(FileErrorCode.unknownTransfer, `no file transfer ${prefix}`);
    if (found.length > 1)
      throw fileError(
        FileErrorCode.ambiguousId,
        `several transfers start with ${prefix}: type more of the id`,
      );
    return found[0] as StoredTransfer;
  }

  // ── offers and outcomes ──────────────────────────────────────────────────────────────────────────────

  /** What the receiver needs to hear about one of our transfers that it has not answered yet. */
  #tellReceiver(session: ChatSession, row: StoredTransfer): void {
    if (row.state === 'offered' || row.state === 'accepted') {
      session.send({
        type: 'file-offer',
        transferId: row.id,
        sizeBytes: row.sizeBytes,
        pieceBytes: row.pieceBytes,
        root: row.root,
        name: row.name,
      });
    } else if (row.state === 'canceled' || row.state === 'failed') {
      session.send({
        type: 'file-state',
        transferId: row.id,
        state: row.state === 'failed' ? 'unavailable' : 'canceled',
      });
    }
  }

  #onOffer(peer: Buffer, session: ChatSession, offer: Extract<ChatFrame, { type: 'file-offer' }>): void {
    const existing = this.#rows.get(peer, offer.transferId);
    const answer = (state: FileStateName): void => {
      session.send({ type: 'file-state', transferId: offer.transferId, state });
    };
    if (existing !== undefined) {
      // One of our own offers' ids (a file-state would be ambiguous), or a group's transfer: dropped.
      if (existing.direction === 'outgoing' || existing.group !== undefined) return;
      const outcome = outcomeOf(existing);
      if (outcome !== undefined) answer(outcome);
      else if (existing.state === 'accepted') this.#ensureDownload(existing);
      return;
    }
    const layout = layoutOf(offer.sizeBytes, offer.pieceBytes);
    if (layout === undefined || this.#opts.downloadsDir === undefined) {
      answer('declined');
      return;
    }
    if (this.#rows.count(peer, 'incoming', ['offered']) >= MAX_PENDING_OFFERS) {
      answer('declined');
      return;
    }
    const row = this.#saveOffer(peer, offer, undefined);
    if (row.state === 'declined') answer('declined');
    this.#emit(row, true);
  }

  /** An incoming offer saved as `offered`, or `declined` (too-large) when over our size limit. */
  #saveOffer(
    from: Buffer,
    offer: { transferId: Buffer; name: string; sizeBytes: number; pieceBytes: number; root: Buffer },
    group: Buffer | undefined,
  ): StoredTransfer {
    const isTooLarge = offer.sizeBytes > this.maxBytes;
    const row = this.#rows.insert({
      id: offer.transferId,
      peer: from,
      direction: 'incoming',
      name: safeFileName(offer.name),
      sizeBytes: offer.sizeBytes,
      pieceBytes: offer.pieceBytes,
      root: offer.root,
      state: isTooLarge ? 'declined' : 'offered',
      ...(isTooLarge ? { reason: 'too-large' } : {}),
      ...(group === undefined ? {} : { group }),
    });
    this.#rows.pruneFinished(from, MAX_FINISHED_KEPT);
    return row;
  }

  #onState(peer: Buffer, session: ChatSession, transferId: Buffer, state: FileStateName): void {
    const row = this.#rows.get(peer, transferId);
    if (row?.group !== undefined) return; // a group's transfer: no file-state frames
    if (row === undefined) {
      // The sender cancelled an offer we never saw: acknowledged, so it stops telling us.
      if (state === 'canceled' || state === 'unavailable')
        session.send({ type: 'file-state', transferId, state: 'canceled' });
      return;
    }
    if (row.direction === 'outgoing') {
      // The receiver's outcome (or its acknowledgement of ours): settled either way.
      if (state === 'unavailable') return;
      let next = row;
      if (!FINAL_TRANSFER_STATES.has(row.state))
        next = this.#rows.setState(row.localId, state, state === 'complete' ? undefined : 'them');
      this.#rows.setSettled(row.localId, true);
      for (const server of this.#servers)
        if (server.transferId?.equals(row.id) && server.peer.equals(peer) && state !== 'complete')
          server.close();
      if (next !== row) this.#emit(next, true);
      return;
    }
    // The sender cancelled, or its file is gone.
    if (state !== 'canceled' && state !== 'unavailable') return;
    void this.#endIncoming(
      row,
      state === 'canceled' ? 'canceled' : 'failed',
      state === 'canceled' ? 'them' : 'unavailable',
    ).then((ended) =>
      session.send({ type: 'file-state', transferId, state: outcomeOf(ended) ?? 'canceled' }),
    );
  }

  /** An incoming transfer ends on the sender's word (or its stream's refusal): the partial file goes. */
  async #endIncoming(
    row: StoredTransfer,
    state: 'canceled' | 'failed',
    reason: string,
  ): Promise<StoredTransfer> {
    if (FINAL_TRANSFER_STATES.has(row.state)) return row;
    await this.#stopDownload(row.localId, true);
    const current = this.#rows.byLocalId(row.localId) ?? row;
    if (FINAL_TRANSFER_STATES.has(current.state)) return current;
    const ended = this.#rows.setState(row.localId, state, reason);
    this.#emit(ended, true);
    return ended;
  }

  // ── downloads ────────────────────────────────────────────────────────────────────────────────────────

  #ensureDownload(row: StoredTransfer): void {
    if (this.#isClosed) return;
    const entry = this.#downloads.get(row.localId);
    if (entry !== undefined) {
      this.#dial(entry);
      return;
    }
    const running = [...this.#downloads.values()].filter(
      (e) => e.download?.transfer.peer.equals(row.peer) ?? false,
    ).length;
    if (running >= MAX_DOWNLOADS_PER_PEER) return; // started when one of them ends (#startWaiting)
    const fresh: DownloadEntry = {
      download: undefined,
      isBusy: true,
      dials: new SourceDials({
        clock: this.#opts.clock,
        logger: this.#opts.logger,
        open: (peer) => this.#openSource(fresh, peer),
        onStream: (_peer, stream) => this.#onSourceStream(fresh, stream),
      }),
    };
    this.#downloads.set(row.localId, fresh);
    void Download.open({
      transfer: row,
      fs: this.#opts.fs,
      rows: this.#rows,
      clock: this.#opts.clock,
      logger: this.#opts.logger,
      ...this.#opts.download,
      events: {
        onProgress: (bytes) => this.#onProgress(row.localId, bytes),
        onComplete: (t) => this.#onDownloadComplete(t),
        onFailed: (reason, detail) => this.#onDownloadFailed(row.localId, reason, detail),
        onSourceClosed: (link, reason) => this.#onSourceClosed(row.localId, link, reason),
      },
    }).then(
      (download) => {
        fresh.isBusy = false;
        if (this.#downloads.get(row.localId) !== fresh || this.#isClosed) {
          void download.close();
          return;
        }
        fresh.download = download;
        if (download.isClosed) return;
        this.#dial(fresh);
      },
      (error: unknown) => {
        fresh.isBusy = false;
        this.#downloads.delete(row.localId);
        this.#opts.logger.warn({ error: String(error) }, 'file: cannot open a download');
      },
    );
  }

  /**
   * Dials a download's sources that have no stream yet: a friend's transfer, the friend (once its session said
   * it speaks files); a group's, every other current member with an open session.
   */
  #dial(entry: DownloadEntry): void {
    const download = entry.download;
    if (download === undefined || download.isClosed || entry.isBusy || this.#isClosed) return;
    for (const peer of this.#sourcesOf(download.transfer)) entry.dials.dial(peer);
  }

  #sourcesOf(row: StoredTransfer): Buffer[] {
    if (row.group === undefined) return this.#fileSessionOf(row.peer) === undefined ? [] : [row.peer];
    return (this.#opts.groups?.otherMembers(row.group) ?? []).filter(
      (peer) => this.#opts.sessionOf(peer)?.isOpen === true,
    );
  }

  /** A stream to one source, if the download still wants it and a session to it is up (else undefined). */
  #openSource(entry: DownloadEntry, peer: Buffer): Promise<FileStream> | undefined {
    const download = entry.download;
    if (download === undefined || download.isClosed || this.#isClosed) return undefined;
    const sourceId = peer.toString('hex');
    if (download.hasSource(sourceId) || download.isBanned(sourceId)) return undefined;
    const session =
      download.transfer.group === undefined ? this.#fileSessionOf(peer) : this.#opts.sessionOf(peer);
    if (session === undefined || !session.isOpen) return undefined; // its next session dials it again
    return FileStream.dial(
      this.#streamCtx,
      this.#opts.utp,
      session.remoteAddress,
      peer,
      MAX_FILE_FRAME_BYTES,
    );
  }

  #onSourceStream(entry: DownloadEntry, stream: FileStream): void {
    const download = entry.download;
    if (
      download === undefined ||
      download.isClosed ||
      this.#downloads.get(download.transfer.localId) !== entry
    ) {
      stream.close();
      return;
    }
    if (download.attach(new SourceLink(stream, download.transfer.id))) this.#emit(download.transfer, true);
  }

  #onSourceClosed(localId: number, link: SourceLink, reason: FileStreamCloseReason | 'banned'): void {
    const entry = this.#downloads.get(localId);
    const download = entry?.download;
    if (entry === undefined || download === undefined || download.isClosed) return;
    this.#emit(download.transfer, true);
    if (reason === 'banned') return;
    const isGroup = download.transfer.group !== undefined;
    const isAuthor = link.peer.equals(download.transfer.peer);
    if (reason.kind === 'refused' && (!isGroup || isAuthor)) {
      if (reason.reason === RefuseReason.canceled) {
        void this.#endIncoming(download.transfer, 'canceled', 'them');
        return;
      }
      // In a group, other members may still have the file its author lost.
      const isGone = reason.reason === RefuseReason.unavailable || reason.reason === RefuseReason.unknown;
      if (isGone && !isGroup) {
        const why = reason.reason === RefuseReason.unknown ? 'unknown to the sender' : 'unavailable';
        void this.#endIncoming(download.transfer, 'failed', why);
        return;
      }
    }
    // Cut, idle, busy, a protocol fault, or (a group's member) no copy yet: asked again while the session lasts,
    // soon if it served us (backing off from 1 s again), else later each time.
    entry.dials.later(link.peer, link.isServing);
  }

  #onProgress(localId: number, bytes: number): void {
    this.#meter(localId).add(bytes);
    this.#progress(localId);
  }

  #onDownloadComplete(row: StoredTransfer): void {
    this.#dropEntry(row.localId);
    if (row.group === undefined) {
      this.#fileSessionOf(row.peer)?.send({ type: 'file-state', transferId: row.id, state: 'complete' });
    } else {
      void this.#startServing(row);
    }
    this.#emit(row, true);
    this.#startWaiting(row.peer);
  }

  /** A group file we completed is served to the other members from where it landed, as it is now. */
  async #startServing(row: StoredTransfer): Promise<void> {
    if (row.path === undefined) return;
    try {
      const info = await this.#opts.fs.stat(row.path);
      if (info !== undefined) this.#rows.setPath(row.localId, row.path, info.modifiedMs);
    } catch (error) {
      this.#opts.logger.debug({ error: String(error) }, 'file: a completed group file cannot be served');
    }
  }

  #dropEntry(localId: number): DownloadEntry | undefined {
    const entry = this.#downloads.get(localId);
    this.#downloads.delete(localId);
    const stats = entry?.download?.sourceStats();
    if (stats !== undefined && stats.length > 0) {
      this.#endedSources.delete(localId);
      this.#endedSources.set(localId, stats);
      const oldest = this.#endedSources.keys().next().value;
      if (this.#endedSources.size > LIST_LIMIT && oldest !== undefined) this.#endedSources.delete(oldest);
    }
    entry?.dials.close();
    return entry;
  }

  #onDownloadFailed(localId: number, reason: string, detail?: string): void {
    this.#dropEntry(localId);
    const row = this.#rows.byLocalId(localId);
    if (row === undefined || FINAL_TRANSFER_STATES.has(row.state)) return;
    const failed = this.#rows.setState(
      localId,
      'failed',
      detail === undefined ? reason : `${reason}: ${detail}`.slice(0, 500),
    );
    // The sender stops offering: for it the transfer is over (a group's has no one sender to tell).
    if (row.group === undefined)
      this.#fileSessionOf(row.peer)?.send({ type: 'file-state', transferId: row.id, state: 'canceled' });
    if (reason !== DownloadFailure.disk) void this.#opts.fs.remove(row.partPath ?? '').catch(() => {});
    this.#emit(failed, true);
    this.#startWaiting(row.peer);
  }

  async #stopDownload(localId: number, isDiscarded: boolean): Promise<void> {
    const entry = this.#dropEntry(localId);
    const row = this.#rows.byLocalId(localId);
    if (entry?.download !== undefined) {
      if (isDiscarded) await entry.download.discard();
      else await entry.download.close();
    } else if (isDiscarded && row?.partPath !== undefined) {
      await this.#opts.fs.remove(row.partPath).catch(() => {});
    }
    if (row !== undefined) this.#startWaiting(row.peer);
  }

  /** A download slot for this friend came free: start an accepted transfer that was waiting for one. */
  #startWaiting(peer: Buffer): void {
    const isFriendOnline = this.#fileSessionOf(peer) !== undefined;
    for (const row of this.#rows.list({ peer, direction: 'incoming', states: ['accepted'] }).reverse()) {
      // A friend's transfer waits for the friend; a group's may have other sources.
      if (row.group === undefined && !isFriendOnline) continue;
      if (!this.#downloads.has(row.localId)) this.#ensureDownload(row);
    }
  }

  // ── serving ──────────────────────────────────────────────────────────────────────────────────────────

  #resolveServe(peer: Buffer, transferId: Buffer, server: PieceServer): ServeDecision {
    const groups = this.#opts.groups;
    const { decision, row } = decideServe(
      {
        rows: this.#rows,
        isCurrentMember: groups === undefined ? undefined : (group, p) => groups.isCurrentMember(group, p),
        downloadOf: (localId) => this.#downloads.get(localId)?.download,
      },
      peer,
      transferId,
    );
    if (row !== undefined) {
      this.#servedIds.set(server, row.localId);
      if (row.direction === 'incoming') this.#relaying.add(server);
    }
    return decision;
  }

  #serverRow(server: PieceServer): StoredTransfer | undefined {
    const localId = this.#servedIds.get(server);
    return localId === undefined ? undefined : this.#rows.byLocalId(localId);
  }

  #onServing(server: PieceServer): void {
    let row = this.#serverRow(server);
    if (row === undefined) return;
    if (row.state === 'offered' && row.direction === 'outgoing')
      row = this.#rows.setState(row.localId, 'accepted');
    this.#emit(row, true);
  }

  /** Per piece: no store access here (a piece every few ms); the row is read only when an event goes out. */
  #onSent(server: PieceServer, index: number, bytes: number): void {
    const localId = this.#servedIds.get(server);
    if (localId === undefined || this.#relaying.has(server)) return;
    let sent = this.#sentPieces.get(localId);
    if (sent === undefined) {
      sent = { pieces: new Set(), bytes: 0 };
      this.#sentPieces.set(localId, sent);
    }
    if (!sent.pieces.has(index)) {
      sent.pieces.add(index);
      sent.bytes += bytes;
    }
    this.#meter(localId).add(bytes);
    this.#progress(localId);
  }

  #onReceiverDone(server: PieceServer): void {
    const row = this.#serverRow(server);
    // A group's transfer has many receivers: one that is done ends nothing.
    if (row === undefined || row.group !== undefined || FINAL_TRANSFER_STATES.has(row.state)) return;
    const done = this.#rows.setState(row.localId, 'complete');
    this.#rows.setSettled(row.localId, true);
    this.#emit(done, true);
  }

  #onUnavailable(server: PieceServer, detail: string): void {
    const row = this.#serverRow(server);
    // A group file we received and changed since: we stop serving it, our own copy's row stays complete.
    if (row === undefined || row.direction === 'incoming' || FINAL_TRANSFER_STATES.has(row.state)) return;
    const failed = this.#rows.setState(row.localId, 'failed', `unavailable: ${detail}`.slice(0, 500));
    if (row.group === undefined)
      this.#fileSessionOf(row.peer)?.send({ type: 'file-state', transferId: row.id, state: 'unavailable' });
    this.#emit(failed, true);
  }

  #onMissing(server: PieceServer): void {
    const row = this.#serverRow(server);
    if (row === undefined || row.direction === 'incoming' || FINAL_TRANSFER_STATES.has(row.state)) return;
    this.#emit(this.#rows.setState(row.localId, row.state, 'missing'), true);
  }

  #onServerClosed(server: PieceServer): void {
    this.#servers.delete(server);
    const row = this.#serverRow(server);
    if (row !== undefined) this.#emit(row, true);
  }

  // ── views and events ─────────────────────────────────────────────────────────────────────────────────

  #fileSessionOf(peer: Buffer): ChatSession | undefined {
    const session = this.#opts.sessionOf(peer);
    return session?.isOpen === true && this.#fileSessions.has(session) ? session : undefined;
  }

  #renamed(row: StoredTransfer, name: string): StoredTransfer {
    return this.#rows.rename(row.localId, name);
  }

  #meter(localId: number): RateMeter {
    let meter = this.#meters.get(localId);
    if (meter === undefined) {
      meter = new RateMeter(this.#opts.clock);
      this.#meters.set(localId, meter);
    }
    return meter;
  }

  /** A progress event, at most every PROGRESS_EVENT_MS per transfer. */
  #progress(localId: number): void {
    const last = this.#lastEventMs.get(localId) ?? Number.NEGATIVE_INFINITY;
    if (this.#opts.clock.monotonicMs() - last < PROGRESS_EVENT_MS) return;
    const row = this.#rows.byLocalId(localId);
    if (row !== undefined) this.#emit(row, true);
  }

  /** The transfer's view as it is now; an event with it (a state change, or progress: see #progress). */
  #emit(row: StoredTransfer, isForced: boolean): FileTransferView {
    const view = this.#view(this.#rows.byLocalId(row.localId) ?? row);
    const now = this.#opts.clock.monotonicMs();
    const last = this.#lastEventMs.get(row.localId) ?? Number.NEGATIVE_INFINITY;
    if (isForced || now - last >= PROGRESS_EVENT_MS) {
      this.#lastEventMs.set(row.localId, now);
      this.#opts.onTransfer(view);
    }
    if (view.state !== 'transferring' && FINAL_TRANSFER_STATES.has(view.state)) {
      this.#meters.delete(row.localId);
      this.#sentPieces.delete(row.localId);
      this.#lastEventMs.delete(row.localId);
    }
    return view;
  }

  #view(row: StoredTransfer): FileTransferView {
    return {
      id: row.id.toString('hex'),
      with: encodeFriendCode(row.peer),
      direction: row.direction,
      name: row.name,
      size: row.sizeBytes,
      state: this.#liveState(row),
      bytesDone: this.#bytesDone(row),
      bytesPerSec: FINAL_TRANSFER_STATES.has(row.state)
        ? 0
        : (this.#meters.get(row.localId)?.bytesPerSec() ?? 0),
      reason: row.reason ?? null,
      path: row.direction === 'outgoing' || row.state === 'complete' ? (row.path ?? null) : null,
      createdAt: row.createdMs,
      group: row.group === undefined ? null : row.group.toString('hex'),
      sources: (
        this.#downloads.get(row.localId)?.download?.sourceStats() ??
        this.#endedSources.get(row.localId) ??
        []
      ).map((stats) => ({
        with: encodeFriendCode(Buffer.from(stats.sourceId, 'hex')),
        pieces: stats.pieces,
        badPieces: stats.badPieces,
        isBanned: stats.isBanned,
        isConnected: stats.isConnected,
      })),
    };
  }

  #liveState(row: StoredTransfer): TransferViewState {
    if (row.state !== 'accepted' && row.state !== 'offered') return row.state;
    if (row.direction === 'incoming') {
      return (this.#downloads.get(row.localId)?.download?.sourceCount ?? 0) > 0 ? 'transferring' : row.state;
    }
    for (const server of this.#servers) {
      if (this.#servedIds.get(server) === row.localId) return 'transferring';
    }
    return row.state;
  }

  #bytesDone(row: StoredTransfer): number {
    if (row.state === 'complete') return row.sizeBytes;
    if (row.direction === 'outgoing') return this.#sentPieces.get(row.localId)?.bytes ?? 0;
    const download = this.#downloads.get(row.localId)?.download;
    if (download !== undefined) return download.bytesDone;
    const layout = layoutOf(row.sizeBytes, row.pieceBytes);
    const field =
      row.bitfield === undefined || layout === undefined
        ? undefined
        : Bitfield.fromBytes(layout.pieceCount, row.bitfield);
    if (field === undefined || layout === undefined) return 0;
    let bytes = 0;
    for (let i = 0; i < layout.pieceCount; i++) if (field.has(i)) bytes += pieceLength(layout, i);
    return bytes;
  }
}

/** What a receiver answers about an incoming transfer whose outcome it knows. */
function outcomeOf(row: StoredTransfer): FileStateName | undefined {
  switch (row.state) {
    case 'complete':
      return 'complete';
    case 'declined':
      return 'declined';
    case 'canceled':
    case 'failed':
      return 'canceled';
    default:
      return undefined;
  }
}
