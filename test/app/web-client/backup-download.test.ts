/**
 * POST /v1/backup/export: the daemon seals the backup file itself and answers it as an attachment that opens
 * with the passphrase given and holds the identity's seed; an empty passphrase, or a protected identity without
 * (or with a wrong) current passphrase, is refused with its code and no file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startChatApiServer } from '../../../src/app/chat-api-server.ts';
import { identityPath } from '../../../src/app/chat-data-dir.ts';
import { backupDownload } from '../../../src/app/web-client/backup-download.ts';
import { WebClient } from '../../../src/app/web-client/web-client.ts';
import {
  decodeBackupPayload,
  encodeBackupStore,
  encodeIdentityFile,
  generateIdentity,
  type Identity,
  openBackup,
  writeIdentityFile,
} from '../../../src/chat/index.ts';
import { cryptoRandom } from '../../../src/runtime/index.ts';
import { get, logIn, service, TOKEN } from './web-server-harness.ts';

const NOW_MS = Date.UTC(2026, 11, 7, 12);

async function withExportServer(
  identityPassphrase: string | undefined,
  run: (port: number, cookie: string, identity: Identity) => Promise<void>,
  changePassphrase: () => Promise<{ isProtected: boolean }> = async () => ({ isProtected: true }),
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dhtchat-backup-download-'));
  const identity = generateIdentity(cryptoRandom);
  const file = await encodeIdentityFile(identity, { passphrase: identityPassphrase, random: cryptoRandom });
  await writeIdentityFile(await identityPath(dataDir), file);
  const parts = {
    dataDir,
    identity,
    storeSection: () => encodeBackupStore({ owner: identity.publicKey, rows: [] }),
    now: () => NOW_MS,
  };
  const web = new WebClient({
    identityTag: 'dhtchat:me',
    network: () => {
      throw new Error('not used');
    },
    unread: () => ({}),
    passphrase: { state: async () => ({ isProtected: false }), change: changePassphrase },
    backup: (passphrase, current) => backupDownload(parts, { passphrase, current }),
  });
  const server = await startChatApiServer({ service, token: TOKEN, web });
  try {
    await run(server.port, await logIn(server.port, web), identity);
  } finally {
    await server.close();
  }
}

function exportRequest(port: number, cookie: string, body: Record<string, unknown>) {
  return get(
    port,
    '/v1/backup/export',
    { cookie, 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` },
    'POST',
    JSON.stringify(body),
  );
}

test('the backup comes as an attachment that opens with the passphrase and holds the seed', async () => {
  await withExportServer(undefined, async (port, cookie, identity) => {
    const answer = await exportRequest(port, cookie, { passphrase: 'correct horse' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/octet-stream');
    assert.equal(
      answer.headers['content-disposition'],
      `attachment; filename="dhtchat-backup-2026-12-07.dat"; filename*=UTF-8''dhtchat-backup-2026-12-07.dat`,
    );
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.equal(answer.headers['cache-control'], 'no-store');
    const payload = decodeBackupPayload(await openBackup(answer.body, 'correct horse'));
    assert.ok(payload.seed.equals(identity.signing.seed));
    assert.equal(payload.wasProtected, false);
    assert.equal(payload.exportedMs, NOW_MS);
    await assert.rejects(openBackup(answer.body, 'wrong'), { code: 'CHAT_BACKUP_WRONG_PASSPHRASE' });
  });
});

test('an empty passphrase is refused, and no file comes', async () => {
  await withExportServer(undefined, async (port, cookie) => {
    const answer = await exportRequest(port, cookie, { passphrase: '' });
    assert.equal(answer.status, 400);
    assert.equal(JSON.parse(answer.text).error.code, 'CHAT_IDENTITY_EMPTY_PASSPHRASE');
    assert.equal((await exportRequest(port, cookie, {})).status, 400);
  });
});

test('a protected identity needs its current passphrase; a wrong one is refused', async () => {
  await withExportServer('identity pass', async (port, cookie, identity) => {
    const missing = await exportRequest(port, cookie, { passphrase: 'backup pass' });
    assert.equal(JSON.parse(missing.text).error.code, 'CHAT_IDENTITY_PASSPHRASE_REQUIRED');
    const wrong = await exportRequest(port, cookie, { passphrase: 'backup pass', current: 'guess' });
    assert.equal(JSON.parse(wrong.text).error.code, 'CHAT_IDENTITY_WRONG_PASSPHRASE');
    const right = await exportRequest(port, cookie, { passphrase: 'backup pass', current: 'identity pass' });
    assert.equal(right.status, 200);
    const payload = decodeBackupPayload(await openBackup(right.body, 'backup pass'));
    assert.ok(payload.seed.equals(identity.signing.seed));
    assert.equal(payload.wasProtected, true, 'an import keeps the key protected');
  });
});

test('one backup at a time: a second asked while the first is sealed is refused', async () => {
  await withExportServer(undefined, async (port, cookie) => {
    // Both sent at once: the first holds the route through its scrypt run (hundreds of ms at least).
    const answers = await Promise.all([
      exportRequest(port, cookie, { passphrase: 'one' }),
      exportRequest(port, cookie, { passphrase: 'two' }),
    ]);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 400]);
    const refused = answers.find((a) => a.status === 400);
    assert.equal(JSON.parse(refused?.text ?? '{}').error.code, 'APP_BACKUP_BUSY');
    assert.equal((await exportRequest(port, cookie, { passphrase: 'three' })).status, 200, 'free again');
  });
});

test('a passphrase change and an export share one slot: either refused while the other runs', async () => {
  let finishChange: () => void = () => {};
  let changesStarted = 0;
  const slowChange = () => {
    changesStarted++;
    return new Promise<{ isProtected: boolean }>((resolve) => {
      finishChange = () => resolve({ isProtected: true });
    });
  };
  await withExportServer(
    undefined,
    async (port, cookie) => {
      const headers = { cookie, 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` };
      const change = (passphrase: string) =>
        get(port, '/v1/passphrase', headers, 'POST', JSON.stringify({ passphrase }));
      const first = change('first');
      while (changesStarted === 0) await new Promise((r) => setTimeout(r, 5));
      const second = await change('second');
      assert.equal(second.status, 400);
      assert.equal(JSON.parse(second.text).error.code, 'APP_PASSPHRASE_BUSY');
      const exported = await exportRequest(port, cookie, { passphrase: 'backup' });
      assert.equal(JSON.parse(exported.text).error.code, 'APP_BACKUP_BUSY');
      assert.equal(changesStarted, 1, 'the refused change never ran');
      finishChange();
      assert.equal((await first).status, 200);
      assert.equal((await exportRequest(port, cookie, { passphrase: 'backup' })).status, 200, 'free again');
    },
    slowChange,
  );
});

test('a foreign Origin cannot ask for the backup, even with the session cookie', async () => {
  await withExportServer(undefined, async (port, cookie) => {
    const answer = await get(
      port,
      '/v1/backup/export',
      { cookie, 'content-type': 'application/json', origin: 'http://attacker.example' },
      'POST',
      '{"passphrase":"x"}',
    );
    assert.equal(answer.status, 403);
    const asForm = await get(
      port,
      '/v1/backup/export',
      { cookie, 'content-type': 'text/plain' },
      'POST',
      '{"passphrase":"x"}',
    );
    assert.equal(asForm.status, 401, 'a cookie-borne POST that is not JSON is not signed in');
  });
});
