/**
 * A file transfer end to end (issue 15, "Files"): two daemons on a loopback testnet, a 64 MiB file offered with
 * `send-file`, accepted with `accept-file`, and the receiver killed with SIGKILL at a seeded random point after
 * its first checkpoint (so it has verified pieces on its disk to resume from). Restarted on the same data dir,
 * it resumes — its log says from how many bytes — and ends with a byte-identical file under the sender's name in
 * its downloads dir; both sides list the transfer complete.
 *
 * The kill is triggered by the partial file's size on Bob's disk (polled every 5 ms), not by time: the transfer
 * runs at whatever speed the machine allows. DHTCHAT_FILE_SEED=<n> replays a kill point (the seed is printed).
 * The 1 GiB run is a benchmark (bench/file-transfer.bench.ts), not a test.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import type { FileTransferView } from '../../src/app/chat-api-types.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import {
  cliJson,
  DEBUG_ENV,
  dumpingLogs,
  eventually,
  type JsonLinesProcess,
  STEP_MS,
  startChatDaemon,
  startFriendsOnTestnet,
  stopAll,
} from './chat-processes.ts';

const FILE_BYTES = 64 * 1024 * 1024;
const TRANSFER_MS = 180_000;
const running: JsonLinesProcess[] = [];
after(() => stopAll(running));

function transferOf(list: unknown, id: string): FileTransferView | undefined {
  return (list as FileTransferView[]).find((t) => t.id === id);
}

/** Writes size random bytes to path in 4 MiB chunks; returns their SHA-256. */
function writeRandomFile(path: string, size: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size; ) {
      const chunk = randomBytes(Math.min(4 * 1024 * 1024, size - done));
      writeSync(fd, chunk);
      hash.update(chunk);
      done += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

describe('file transfer between daemons', () => {
  test('64 MiB, the receiver killed -9 mid-way, resumed to a byte-identical file', {
    timeout: 600_000,
  }, async () => {
    const seed = Number(process.env['DHTCHAT_FILE_SEED'] ?? Date.now() % 1_000_000);
    console.log(`DHTCHAT_FILE_SEED=${seed}`);
    const random = new SeededRandom(`file-e2e/${seed}`);
    const { alice, bob, bootstrap } = await startFriendsOnTestnet(running, { env: DEBUG_ENV });
    await dumpingLogs(running, async () => {
      const source = join(alice.dir, 'holiday video.mp4');
      const digest = writeRandomFile(source, FILE_BYTES);
      const offered = (await cliJson(alice.dir, 'send-file', 'bob', source)) as FileTransferView;
      assert.equal(offered.state, 'offered');
      assert.equal(offered.size, FILE_BYTES);
      await eventually(
        'the offer at Bob',
        async () => transferOf(await callDaemon(bob.dir, 'GET', '/v1/files'), offered.id),
        STEP_MS,
        200,
      );
      // Somewhere between 30 % and 80 %, and after Bob has saved at least one checkpoint.
      const killAtBytes = Math.floor(FILE_BYTES * (0.3 + random.int(500) / 1000));
      console.log(`killing Bob once his partial file reaches ${killAtBytes} bytes`);
      await cliJson(bob.dir, 'accept-file', offered.id.slice(0, 8));
      const part = join(bob.dir, 'downloads', `holiday video.mp4.${offered.id.slice(0, 8)}.part`);
      const isCheckpointed = (): boolean =>
        bob.daemon.proc.lines.some((l) => l['msg'] === 'file checkpoint' && Number(l['bytesDone']) > 0);
      await eventually(
        'Bob past his first checkpoint and the kill point',
        async () => {
          let size = 0;
          try {
            size = statSync(part).size;
          } catch {
            return undefined;
          }
          return size >= killAtBytes && isCheckpointed() ? true : undefined;
        },
        TRANSFER_MS,
        5,
      );
      await bob.daemon.proc.stop('SIGKILL');
      const partBytes = statSync(part).size;
      assert.ok(partBytes < FILE_BYTES, `killed mid-way (${partBytes} bytes)`);

      // No --port: the daemon takes its last port back, where Alice dials it (as a user's restart does).
      const restarted = await startChatDaemon(bob.dir, bootstrap, running, { env: DEBUG_ENV });
      const resumed = await restarted.proc.waitFor((l) => l['msg'] === 'file download resumed', STEP_MS);
      const resumedFrom = Number(resumed['bytesDone']);
      console.log(`Bob resumed from ${resumedFrom} of ${FILE_BYTES} bytes (killed at ${partBytes})`);
      assert.ok(resumedFrom > 0 && resumedFrom <= partBytes, `resumed from synced pieces: ${resumedFrom}`);

      const done = await eventually(
        'the transfer complete at Bob',
        async () => {
          const t = transferOf(await callDaemon(bob.dir, 'GET', '/v1/files'), offered.id);
          return t?.state === 'complete' ? t : undefined;
        },
        TRANSFER_MS,
        250,
      );
      const received = join(bob.dir, 'downloads', 'holiday video.mp4');
      assert.equal(done.path, received);
      assert.equal(
        createHash('sha256').update(readFileSync(received)).digest('hex'),
        digest,
        'byte-identical',
      );
      assert.deepEqual(
        readdirSync(join(bob.dir, 'downloads')),
        ['holiday video.mp4'],
        'no partial file left',
      );
      await eventually(
        'the transfer complete at Alice',
        async () => {
          const t = transferOf(await callDaemon(alice.dir, 'GET', '/v1/files'), offered.id);
          return t?.state === 'complete' ? t : undefined;
        },
        STEP_MS,
        250,
      );
    });
  });
});
