import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  defaultDataDir,
  ensureDataDir,
  ROUTING_TABLE_FILE,
  readDataFile,
  writeDataFileAtomic,
} from '../../src/app/data-dir.ts';

test('default data dir follows XDG_DATA_HOME, else ~/.local/share', () => {
  assert.equal(defaultDataDir({ XDG_DATA_HOME: '/x/data', HOME: '/home/u' }), '/x/data/dhtchat');
  assert.equal(defaultDataDir({ HOME: '/home/u' }), '/home/u/.local/share/dhtchat');
  // The XDG spec says relative paths are invalid and must be ignored.
  assert.equal(defaultDataDir({ XDG_DATA_HOME: 'rel', HOME: '/home/u' }), '/home/u/.local/share/dhtchat');
});

test('files are written atomically, read back, and absent files read as undefined', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'dhtchat-data-')), 'nested', 'dir');
  await ensureDataDir(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(await readDataFile(dir, ROUTING_TABLE_FILE), undefined);
  await writeDataFileAtomic(dir, ROUTING_TABLE_FILE, Buffer.from('one'));
  await writeDataFileAtomic(dir, ROUTING_TABLE_FILE, Buffer.from('two'));
  assert.deepEqual(await readDataFile(dir, ROUTING_TABLE_FILE), Buffer.from('two'));
  assert.deepEqual(readdirSync(dir), [ROUTING_TABLE_FILE]); // no temp file left behind
  assert.equal(statSync(join(dir, ROUTING_TABLE_FILE)).mode & 0o777, 0o600);
});

test('a data dir under a regular file fails with APP_DATA_DIR', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-data-'));
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  await assert.rejects(ensureDataDir(join(file, 'sub')), { code: 'APP_DATA_DIR' });
  await assert.rejects(writeDataFileAtomic(join(file, 'sub'), 'x', Buffer.from('y')), {
    code: 'APP_DATA_DIR',
  });
  await assert.rejects(readDataFile(file, 'x'), { code: 'APP_DATA_DIR' });
});
