/**
 * A Download fed by several sources at once (what a group transfer will do): real secure file streams over
 * in-process pipes, real PieceServers on their own disks. Two honest sources share the pieces; with one
 * dishonest source, its wrong pieces are fetched from the honest one and it is dropped after MAX_BAD_PIECES.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Download } from '../../../src/chat/files/download.ts';
import {
  MAX_FILE_FRAME_BYTES,
  MAX_REQUEST_FRAME_BYTES,
  RefuseReason,
} from '../../../src/chat/files/file-frames.ts';
import { layoutFor } from '../../../src/chat/files/file-layout.ts';
import { FileStream } from '../../../src/chat/files/file-stream.ts';
import { fileRoot, pieceHash } from '../../../src/chat/files/hash-tree.ts';
import { PieceServer } from '../../../src/chat/files/piece-server.ts';
import { MAX_BAD_PIECES } from '../../../src/chat/files/piece-scheduler.ts';
import { SourceLink } from '../../../src/chat/files/source-link.ts';
import { identityFromSeed } from '../../../src/chat/identity.ts';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import { SecureStream } from '../../../src/net/index.ts';
import { ManualClock, nullLogger, SeededRandom } from '../../../src/runtime/index.ts';
import { createDuplexPair } from '../../net/secure/duplex-pair.ts';
import { fileBytes } from './file-harness.ts';
import { MemoryFileSystem } from './memory-file-system.ts';

const dir = mkdtempSync(join(tmpdir(), 'dhtchat-download-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const clock = new ManualClock();
const random = new SeededRandom('download');
const receiver = identityFromSeed(Buffer.alloc(32, 1));
const ctx = { identity: receiver, clock, random, logger: nullLogger, handshakeTimeoutMs: 5000 };

const content = fileBytes(4 * 1024 * 1024 + 99, 31);
const layout = layoutFor(content.length);
const hashes = Buffer.concat(
  Array.from({ length: layout.pieceCount }, (_, i) =>
    pieceHash(content.subarray(i * layout.pieceBytes, (i + 1) * layout.pieceBytes)),
  ),
);
const root = fileRoot(layout, hashes);
const transferId = Buffer.alloc(16, 0x5a);

/** A source on a disk of its own, serving the file to the receiver over a fresh secure file stream. */
async function source(seed: number, isHonest: boolean): Promise<{ link: SourceLink; sent: number[] }> {
  const identity = identityFromSeed(Buffer.alloc(32, seed));
  const fs = new MemoryFileSystem();
  fs.put('/src/file', content);
  if (!isHonest) fs.onRead = (_p, _pos, bytes) => Buffer.alloc(bytes.length, 0xee);
  const modifiedMs = (await fs.stat('/src/file'))?.modifiedMs as number;
  const [a, b] = createDuplexPair();
  const common = { random, clock, handshakeTimeoutMs: 5000 };
  const toSource = new SecureStream(a, {
    ...common,
    isInitiator: true,
    identity: receiver.signing,
    remoteIdentityPublicKey: identity.publicKey,
    channel: 1,
  });
  const fromReceiver = new SecureStream(b, { ...common, isInitiator: false, identity: identity.signing });
  await Promise.all([toSource.handshake, fromReceiver.handshake]);
  const address = { host: '127.0.0.1', port: seed };
  const sent: number[] = [];
  new PieceServer(
    FileStream.accepted(
      { ...ctx, identity },
      fromReceiver,
      receiver.publicKey,
      address,
      MAX_REQUEST_FRAME_BYTES,
    ),
    {
      fs,
      clock,
      logger: nullLogger,
      events: {
        resolve: (_peer, id) =>
          id.equals(transferId)
            ? { ok: true, layout, root, hashes, path: '/src/file', modifiedMs }
            : { ok: false, reason: RefuseReason.unknown },
        onOpened: () => {},
        onSent: (_s, index) => void sent.push(index),
        onDone: () => {},
        onUnavailable: () => {},
        onMissing: () => {},
        onClose: () => {},
      },
    },
  );
  const stream = FileStream.accepted(ctx, toSource, identity.publicKey, address, MAX_FILE_FRAME_BYTES);
  return { link: new SourceLink(stream, transferId), sent };
}

async function download(
  label: string,
): Promise<{ download: Download; fs: MemoryFileSystem; done: Promise<string> }> {
  const store = ChatStore.open({
    path: join(dir, `${label}.sqlite`),
    ownPublicKey: receiver.publicKey,
    clock,
    random,
    synchronous: 'NORMAL',
  });
  after(() => store.close());
  const row = store.files.insert({
    id: transferId,
    peer: identityFromSeed(Buffer.alloc(32, 2)).publicKey,
    direction: 'incoming',
    name: 'shared.bin',
    sizeBytes: layout.sizeBytes,
    pieceBytes: layout.pieceBytes,
    root,
    state: 'offered',
  });
  const accepted = store.files.setAccepted(row.localId, { dir: '/in', partPath: '/in/shared.bin.part' });
  const fs = new MemoryFileSystem();
  await fs.makeDirectory('/in');
  let settle: (outcome: string) => void = () => {};
  const done = new Promise<string>((resolve) => (settle = resolve));
  const d = await Download.open({
    transfer: accepted,
    fs,
    rows: store.files,
    clock,
    logger: nullLogger,
    windowBytes: 2 * layout.pieceBytes,
    events: {
      onProgress: () => {},
      onComplete: () => settle('complete'),
      onFailed: (reason) => settle(`failed: ${reason}`),
      onSourceClosed: () => {},
    },
  });
  return { download: d, fs, done };
}

test('two honest sources at once: both serve pieces, the file is byte-identical', async () => {
  const { download: d, fs, done } = await download('two-honest');
  const first = await source(2, true);
  const second = await source(3, true);
  assert.ok(d.attach(first.link));
  assert.ok(d.attach(second.link));
  assert.equal(await done, 'complete');
  assert.deepEqual(fs.get('/in/shared.bin'), content);
  assert.ok(
    first.sent.length > 0 && second.sent.length > 0,
    `${first.sent.length} + ${second.sent.length} pieces`,
  );
  assert.equal(new Set([...first.sent, ...second.sent]).size, layout.pieceCount);
});

test('a dishonest source: its wrong pieces come from the honest one, and it is dropped', async () => {
  const { download: d, fs, done } = await download('one-dishonest');
  const honest = await source(2, true);
  const liar = await source(4, false);
  assert.ok(d.attach(liar.link));
  assert.ok(d.attach(honest.link));
  assert.equal(await done, 'complete');
  assert.deepEqual(fs.get('/in/shared.bin'), content);
  assert.equal(d.counters.badPieces, MAX_BAD_PIECES, 'dropped at the third bad piece');
  assert.ok(
    liar.sent.length <= MAX_BAD_PIECES + 2,
    `the liar served ${liar.sent.length} (its window at most after that)`,
  );
  for (const index of liar.sent)
    assert.ok(honest.sent.includes(index), `piece ${index} fetched again from the honest source`);
});
