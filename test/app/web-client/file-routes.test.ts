/**
 * The web client's file routes through the API server: an upload is staged (bounded, its friend checked before a
 * byte is read, the cookie's body typed) and offered, and deleted when the offer fails, when its transfer ends or
 * at the next start; a received file downloads as an attachment, and nothing else does.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { startChatApiServer } from '../../../src/app/chat-api-server.ts';
import type { WebFiles } from '../../../src/app/web-client/file-routes.ts';
import { UploadStaging } from '../../../src/app/web-client/upload-staging.ts';
import { WebClient } from '../../../src/app/web-client/web-client.ts';
import type { FileTransferView } from '../../../src/chat/index.ts';
import { get, logIn, service, TOKEN } from './web-server-harness.ts';

const BOB = 'dhtchat:bob';
const ME = 'dhtchat:me';
const CLUB = 'c'.repeat(64);
const MAX_FILE_BYTES = 1000;

function transfer(fields: Partial<FileTransferView>): FileTransferView {
  return {
    id: 'ab'.repeat(16),
    with: BOB,
    direction: 'incoming',
    name: 'x',
    size: 0,
    state: 'complete',
    bytesDone: 0,
    bytesPerSec: 0,
    reason: null,
    path: null,
    createdAt: 0,
    group: null,
    sources: [],
    ...fields,
  };
}

interface Scene {
  port: number;
  cookie: string;
  readonly staging: UploadStaging;
  readonly offered: { to: string; path: string; bytes: Buffer; isGroup?: true }[];
  readonly transfers: FileTransferView[];
  sendFails: boolean;
}

async function withFileServer(run: (scene: Scene) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dhtchat-file-routes-'));
  const staging = new UploadStaging({ dataDir, maxFileBytes: MAX_FILE_BYTES });
  const offered: Scene['offered'] = [];
  const transfers: FileTransferView[] = [];
  const scene: Scene = { port: 0, cookie: '', staging, offered, transfers, sendFails: false };
  const files: WebFiles = {
    staging,
    list: () => transfers,
    isFriend: (to) => to === BOB || to === 'bob',
    send: async (to, path) => {
      if (scene.sendFails) throw Object.assign(new Error('offer failed'), { code: 'X' });
      offered.push({ to, path, bytes: readFileSync(path) });
      return transfer({ direction: 'outgoing', state: 'offered', path, with: to });
    },
    isGroup: (group) => group === CLUB || group === 'club',
    sendToGroup: async (group, path) => {
      offered.push({ to: group, path, bytes: readFileSync(path), isGroup: true });
      return transfer({ direction: 'outgoing', state: 'offered', path, with: ME, group });
    },
  };
  const web = new WebClient({
    identityTag: 'dhtchat:me',
    network: () => {
      throw new Error('not used');
    },
    unread: () => ({}),
    passphrase: { state: async () => ({ isProtected: false }), change: async () => ({ isProtected: true }) },
    files,
  });
  const server = await startChatApiServer({ service, token: TOKEN, web, onError: () => {} });
  try {
    scene.port = server.port;
    scene.cookie = await logIn(server.port, web);
    await run(scene);
  } finally {
    await server.close();
  }
}

function upload(scene: Scene, query: string, body: Buffer, type = 'application/octet-stream') {
  return get(
    scene.port,
    `/v1/files/upload?${query}`,
    { cookie: scene.cookie, 'content-type': type, 'content-length': String(body.length) },
    'POST',
    body as unknown as string,
  );
}

function stagedDirs(staging: UploadStaging): string[] {
  return existsSync(staging.dir) ? readdirSync(staging.dir) : [];
}

test('an upload is staged under a safe name and offered to the friend', async () => {
  await withFileServer(async (scene) => {
    const bytes = Buffer.from('hello, Bob');
    const answer = await upload(
      scene,
      `to=${BOB}&name=${encodeURIComponent('../../etc/pass\u202Ewd')}`,
      bytes,
    );
    assert.equal(answer.status, 200, answer.text);
    assert.equal(JSON.parse(answer.text).state, 'offered');
    const [offer] = scene.offered;
    assert.equal(offer?.to, BOB);
    assert.deepEqual(offer?.bytes, bytes);
    assert.equal(dirname(dirname(offer?.path ?? '')), scene.staging.dir);
    assert.equal(offer?.path.endsWith('/pass_wd'), true, offer?.path);
    assert.ok(scene.staging.holds(offer?.path ?? null));
    await scene.staging.release(offer?.path ?? '');
    assert.deepEqual(stagedDirs(scene.staging), []);
  });
});

test('an upload to a group we are a member of is offered to the group; another group is refused unread', async () => {
  await withFileServer(async (scene) => {
    const bytes = Buffer.from('for the club');
    const answer = await upload(scene, `group=club&name=notes.txt`, bytes);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(
      scene.offered.map((o) => [o.to, o.isGroup, o.bytes.toString()]),
      [['club', true, 'for the club']],
    );
    await scene.staging.release(scene.offered[0]?.path ?? '');
    const stranger = await upload(scene, 'group=chess&name=a', bytes);
    assert.equal(stranger.status, 400);
    assert.equal(JSON.parse(stranger.text).error.code, 'APP_UPLOAD_UNKNOWN_GROUP');
    // A group is never taken for a friend of the same name, nor the other way round.
    assert.equal(
      JSON.parse((await upload(scene, 'to=club&name=a', bytes)).text).error.code,
      'APP_UPLOAD_UNKNOWN_FRIEND',
    );
    assert.equal(
      JSON.parse((await upload(scene, 'group=bob&name=a', bytes)).text).error.code,
      'APP_UPLOAD_UNKNOWN_GROUP',
    );
    assert.deepEqual(stagedDirs(scene.staging), []);
  });
});

test('refused before a byte is staged: no friend, too large, no name, a cookie without the raw type', async () => {
  await withFileServer(async (scene) => {
    const small = Buffer.from('x');
    const stranger = await upload(scene, 'to=mallory&name=a', small);
    assert.equal(JSON.parse(stranger.text).error.code, 'APP_UPLOAD_UNKNOWN_FRIEND');
    const big = await upload(scene, `to=${BOB}&name=a`, Buffer.alloc(MAX_FILE_BYTES + 1));
    assert.equal(JSON.parse(big.text).error.code, 'APP_UPLOAD_TOO_LARGE');
    assert.equal((await upload(scene, `to=${BOB}`, small)).status, 400);
    assert.equal((await upload(scene, `to=${BOB}&name=a`, small, 'application/json')).status, 401);
    assert.equal((await upload(scene, `to=${BOB}&name=a`, small, 'text/plain')).status, 401);
    assert.deepEqual(stagedDirs(scene.staging), []);
    assert.deepEqual(scene.offered, []);
  });
});

test('a failed offer deletes the staged file; staging is bounded in bytes', async () => {
  await withFileServer(async (scene) => {
    scene.sendFails = true;
    assert.equal((await upload(scene, `to=${BOB}&name=a`, Buffer.alloc(10))).status, 500);
    assert.deepEqual(stagedDirs(scene.staging), []);
    scene.sendFails = false;
    // Two files of the maximum fill the staging (2 x maxFileBytes); a third waits for one to end.
    for (const name of ['a', 'b']) {
      assert.equal((await upload(scene, `to=${BOB}&name=${name}`, Buffer.alloc(MAX_FILE_BYTES))).status, 200);
    }
    const third = await upload(scene, `to=${BOB}&name=c`, Buffer.alloc(1));
    assert.equal(JSON.parse(third.text).error.code, 'APP_UPLOAD_FULL');
    assert.equal(stagedDirs(scene.staging).length, 2);
  });
});

test('one upload at a time; one that breaks off leaves nothing staged', async () => {
  await withFileServer(async (scene) => {
    // An upload that declares 500 bytes and sends 10, then stalls: the next is refused while it runs.
    const stalled = request({
      host: '127.0.0.1',
      port: scene.port,
      method: 'POST',
      path: `/v1/files/upload?to=${BOB}&name=stalled`,
      headers: { cookie: scene.cookie, 'content-type': 'application/octet-stream', 'content-length': '500' },
    });
    stalled.on('error', () => {});
    stalled.write(Buffer.alloc(10));
    await until(() => stagedDirs(scene.staging).length === 1);
    const second = await upload(scene, `to=${BOB}&name=b`, Buffer.alloc(1));
    assert.equal(JSON.parse(second.text).error.code, 'APP_UPLOAD_BUSY');
    // It breaks off: its partial file goes, and uploads are taken again.
    stalled.destroy();
    await until(() => stagedDirs(scene.staging).length === 0);
    assert.equal((await upload(scene, `to=${BOB}&name=c`, Buffer.alloc(1))).status, 200);
    assert.deepEqual(
      scene.offered.map((o) => o.path.split('/').pop()),
      ['c'],
    );
  });
});

/** Polls a condition every 10 ms, for at most 10 s (a stream's close is asynchronous). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'the condition never held');
}

test('sweep at start keeps only the uploads of live transfers', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dhtchat-staging-sweep-'));
  const staging = new UploadStaging({ dataDir, maxFileBytes: MAX_FILE_BYTES });
  const live = join(staging.dir, '00'.repeat(8), 'live.txt');
  const ended = join(staging.dir, '11'.repeat(8), 'ended.txt');
  for (const path of [live, ended]) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'x');
  }
  await staging.sweep(new Set([live]));
  assert.deepEqual(stagedDirs(staging), ['00'.repeat(8)]);
  assert.ok(staging.holds(live));
  assert.equal(staging.stagedBytes(), 1);
});

test('a complete received file downloads as an attachment; nothing else does', async () => {
  await withFileServer(async (scene) => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-received-'));
    const path = join(dir, 'r\u00e9sum\u00e9 "v2".pdf');
    writeFileSync(path, 'PDF bytes');
    const id = 'cd'.repeat(16);
    scene.transfers.push(transfer({ id, path, size: 9 }));
    const answer = await get(scene.port, `/v1/files/${id}/content`, { cookie: scene.cookie });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'PDF bytes');
    assert.equal(answer.headers['content-type'], 'application/octet-stream');
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.equal(
      answer.headers['content-disposition'],
      `attachment; filename="r_sum_ _v2_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf`,
    );
    const others = [
      transfer({ id: '01'.repeat(16), path, direction: 'outgoing' }),
      transfer({ id: '02'.repeat(16), path, state: 'transferring' }),
      transfer({ id: '03'.repeat(16), path: join(dir, 'gone') }),
    ];
    scene.transfers.push(...others);
    for (const other of others) {
      const refused = await get(scene.port, `/v1/files/${other.id}/content`, { cookie: scene.cookie });
      assert.equal(refused.status, 400);
      assert.match(JSON.parse(refused.text).error.code, /^APP_FILE_(NOT_RECEIVED|MISSING)$/);
    }
    assert.equal((await get(scene.port, `/v1/files/${id}/content`)).status, 401, 'needs the session');
    assert.equal(
      (await get(scene.port, `/v1/files/${'CD'.repeat(16)}/content`, { cookie: scene.cookie })).status,
      404,
    );
  });
});
