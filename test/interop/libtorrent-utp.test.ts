/**
 * Interop tier: our uTP against libtorrent's (Debian python3-libtorrent, TCP disabled, loopback), driven by
 * test/interop/libtorrent_utp.py. (a) libtorrent connects to our listener and sends a BitTorrent handshake;
 * (b) we download a whole torrent from a libtorrent seed over our uTP client and check every piece's SHA-1.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UtpEndpoint, UtpStream } from '../../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'libtorrent_utp.py');
const hasLibtorrent = spawnSync(PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' }).status === 0;
const skip = hasLibtorrent ? false : `${PYTHON} cannot import libtorrent (install python3-libtorrent)`;

interface Ready {
  port: number;
  info_hash: string;
  piece_length: number;
  total_size: number;
  piece_hashes: string[];
  files: string[];
}

interface Partner {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<Ready>;
  finished: Promise<void>;
  log: string[];
}

function startPartner(args: string[]): Partner {
  const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stderr.on('data', (d: Buffer) => log.push(d.toString()));
  let onFinished = (): void => {};
  const finished = new Promise<void>((resolve) => {
    onFinished = resolve;
  });
  const ready = new Promise<Ready>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line);
      const msg = JSON.parse(line) as { event: string } & Ready;
      if (msg.event === 'ready') resolve(msg);
      if (msg.event === 'finished') onFinished();
      if (msg.event === 'error') reject(new Error(line));
    });
    child.on('exit', (code) => reject(new Error(`libtorrent script exited ${code}: ${log.join('\n')}`)));
  });
  return { child, ready, finished, log };
}

async function stopPartner(p: Partner): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = once(p.child, 'exit');
  p.child.stdin.end();
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function handshake(infoHash: Buffer, peerId: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([19]),
    Buffer.from('BitTorrent protocol'),
    Buffer.alloc(8),
    infoHash,
    peerId,
  ]);
}

/** Reads exactly n bytes from a stream (bounded by the test timeout). */
function readExactly(stream: UtpStream, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      have += c.length;
      if (have < n) return;
      stream.off('data', onData);
      stream.off('error', reject);
      const all = Buffer.concat(chunks);
      stream.pause();
      if (all.length > n) stream.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    stream.on('data', onData);
    stream.on('error', reject);
    stream.resume();
  });
}

describe('uTP interop with libtorrent', { skip, timeout: 90_000 }, () => {
  test('(a) libtorrent connects to our uTP listener and sends a valid BitTorrent handshake', async () => {
    const transport = await UdpTransport.bind({ host: '127.0.0.1' });
    const endpoint = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom });
    const accepted = new Promise<UtpStream>((resolve) => endpoint.listen((s) => resolve(new UtpStream(s))));
    const partner = startPartner(['connect', String(transport.localAddress().port)]);
    try {
      const ready = await partner.ready;
      const stream = await accepted;
      const hs = await readExactly(stream, 68);
      assert.equal(hs[0], 19, partner.log.join('\n'));
      assert.equal(hs.subarray(1, 20).toString('latin1'), 'BitTorrent protocol');
      assert.equal(hs.subarray(28, 48).toString('hex'), ready.info_hash);
      assert.equal(hs.subarray(48, 68).length, 20, 'peer id present');
      stream.destroy();
    } finally {
      await stopPartner(partner);
      endpoint.close();
    }
  });

  test('(b) our uTP client downloads every piece of a torrent from a libtorrent seed', async () => {
    const partner = startPartner(['seed']);
    const transport = await UdpTransport.bind({ host: '127.0.0.1' });
    const endpoint = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom });
    try {
      const ready = await partner.ready;
      const stream = new UtpStream(endpoint.connect({ host: '127.0.0.1', port: ready.port }));
      await once(stream, 'connect');
      const infoHash = Buffer.from(ready.info_hash, 'hex');
      stream.write(handshake(infoHash, Buffer.concat([Buffer.from('-DC0001-'), randomBytes(12)])));
      const hs = await readExactly(stream, 68);
      assert.equal(hs.subarray(28, 48).toString('hex'), ready.info_hash, partner.log.join('\n'));
      const pieces = await downloadAll(stream, ready);
      for (let i = 0; i < ready.piece_hashes.length; i++) {
        const sha = createHash('sha1')
          .update(pieces[i] as Buffer)
          .digest('hex');
        assert.equal(sha, ready.piece_hashes[i], `piece ${i}`);
      }
      assert.equal(
        pieces.reduce((n, p) => n + p.length, 0),
        ready.total_size,
      );
      assert.equal(
        stream.socket.connection.stats.invalidPackets,
        0,
        'every libtorrent packet was valid to us',
      );
      stream.end();
    } finally {
      await stopPartner(partner);
      endpoint.close();
    }
  });
  test('(c) libtorrent downloads a whole torrent from us over our uTP (our sender, LEDBAT, against its receiver)', async () => {
    const transport = await UdpTransport.bind({ host: '127.0.0.1' });
    const endpoint = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom });
    const accepted = new Promise<UtpStream>((resolve) => endpoint.listen((s) => resolve(new UtpStream(s))));
    const partner = startPartner(['connect', String(transport.localAddress().port)]);
    try {
      const ready = await partner.ready;
      const data = Buffer.concat(await Promise.all(ready.files.map((f) => readFile(f))));
      assert.equal(data.length, ready.total_size);
      const stream = await accepted;
      const hs = await readExactly(stream, 68);
      assert.equal(hs.subarray(28, 48).toString('hex'), ready.info_hash);
      stream.write(handshake(hs.subarray(28, 48), Buffer.concat([Buffer.from('-DC0001-'), randomBytes(12)])));
      serveAll(stream, ready, data);
      await partner.finished;
      assert.equal(stream.socket.connection.stats.invalidPackets, 0);
      stream.destroy();
    } finally {
      await stopPartner(partner);
      endpoint.close();
    }
  });
});

const BLOCK_BYTES = 16 * 1024;
const MAX_OUTSTANDING = 64;

/** Just enough of the peer wire protocol (BEP 3): interested, wait for unchoke, request every block. */
function downloadAll(stream: UtpStream, torrent: Ready): Promise<Buffer[]> {
  const pieceCount = torrent.piece_hashes.length;
  const pieceSize = (i: number) =>
    i === pieceCount - 1 ? torrent.total_size - i * torrent.piece_length : torrent.piece_length;
  const pieces = Array.from({ length: pieceCount }, (_, i) => Buffer.alloc(pieceSize(i)));
  const wanted: { index: number; begin: number; length: number }[] = [];
  for (let i = 0; i < pieceCount; i++) {
    for (let begin = 0; begin < pieceSize(i); begin += BLOCK_BYTES) {
      wanted.push({ index: i, begin, length: Math.min(BLOCK_BYTES, pieceSize(i) - begin) });
    }
  }
  const outstanding = new Map<string, { index: number; begin: number; length: number }>();
  let isChoked = true;
  let received = 0;
  const totalBlocks = wanted.length;
  const send = (id: number, payload: Buffer = Buffer.alloc(0)): void => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(1 + payload.length, 0);
    header[4] = id;
    stream.write(Buffer.concat([header, payload]));
  };
  const requestMore = (): void => {
    while (!isChoked && outstanding.size < MAX_OUTSTANDING && wanted.length > 0) {
      const block = wanted.shift() as (typeof wanted)[number];
      outstanding.set(`${block.index}/${block.begin}`, block);
      const p = Buffer.alloc(12);
      p.writeUInt32BE(block.index, 0);
      p.writeUInt32BE(block.begin, 4);
      p.writeUInt32BE(block.length, 8);
      send(6, p);
    }
  };
  return new Promise((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0);
    stream.on('error', reject);
    stream.on('end', () => reject(new Error(`peer closed after ${received}/${totalBlocks} blocks`)));
    stream.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (buffer.length < 4 + length) break;
        const message = buffer.subarray(4, 4 + length);
        buffer = buffer.subarray(4 + length);
        if (length === 0) continue; // keep-alive
        const id = message[0];
        if (id === 0) {
          isChoked = true;
          // Without the fast extension a choke drops our pending requests: ask again after the unchoke.
          for (const block of outstanding.values()) wanted.unshift(block);
          outstanding.clear();
        } else if (id === 1) {
          isChoked = false;
          requestMore();
        } else if (id === 7) {
          const index = message.readUInt32BE(1);
          const begin = message.readUInt32BE(5);
          const key = `${index}/${begin}`;
          if (!outstanding.delete(key)) continue;
          message.subarray(9).copy(pieces[index] as Buffer, begin);
          received++;
          if (received === totalBlocks) resolve(pieces);
          else requestMore();
        }
      }
    });
    stream.resume(); // readExactly() left the stream paused
    send(2); // interested
  });
}

function message(id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(1 + payload.length, 0);
  header[4] = id;
  return Buffer.concat([header, payload]);
}

/** The seeding side of BEP 3, minimal: bitfield (all pieces), unchoke, answer every request. */
function serveAll(stream: UtpStream, torrent: Ready, data: Buffer): void {
  const pieceCount = torrent.piece_hashes.length;
  const bitfield = Buffer.alloc(Math.ceil(pieceCount / 8));
  for (let i = 0; i < pieceCount; i++) bitfield[i >> 3] = (bitfield[i >> 3] as number) | (0x80 >> (i & 7));
  stream.write(message(5, bitfield));
  stream.write(message(1));
  let buffer: Buffer = Buffer.alloc(0);
  stream.on('error', () => {});
  stream.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4) {
      const length = buffer.readUInt32BE(0);
      if (buffer.length < 4 + length) break;
      const msg = buffer.subarray(4, 4 + length);
      buffer = buffer.subarray(4 + length);
      if (length === 0 || msg[0] !== 6) continue;
      const index = msg.readUInt32BE(1);
      const begin = msg.readUInt32BE(5);
      const blockLength = msg.readUInt32BE(9);
      const start = index * torrent.piece_length + begin;
      const header = Buffer.alloc(8);
      header.writeUInt32BE(index, 0);
      header.writeUInt32BE(begin, 4);
      stream.write(message(7, Buffer.concat([header, data.subarray(start, start + blockLength)])));
    }
  });
  stream.resume();
}
