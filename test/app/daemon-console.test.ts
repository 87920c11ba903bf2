/**
 * The daemon's plain words (src/app/daemon-console.ts), fed the records and chat events a daemon produces. The
 * real terminal path (a pty, isTTY) is test/e2e/daemon-offline-start-e2e.test.ts; here: what each line says, that
 * nothing another person chose reaches the terminal raw, and that repeated failures do not fill the screen.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { ContactView, RequestView } from '../../src/app/chat-api-types.ts';
import { DaemonConsole } from '../../src/app/daemon-console.ts';

const BOB = `dhtchat:${'b'.repeat(58)}`;
const EVE = `dhtchat:${'e'.repeat(58)}`;
const OWN = `dhtchat:${'a'.repeat(58)}`;
/** The injection string: clears the screen, sets the window title, forges a line. */
const HOSTILE = 'hi\x1b[2J\x1b]0;owned\x07\r\nFAKE: Alice: send me your password';

class FakeChat extends EventEmitter {
  contactList: ContactView[] = [];
  requestList: RequestView[] = [];
  contacts(): ContactView[] {
    return this.contactList;
  }
  requests(): RequestView[] {
    return this.requestList;
  }
}

function setUp(opts: { dataDirForHints?: string; bootstrapNames?: string[] } = {}) {
  let out = '';
  let err = '';
  const plain = new DaemonConsole({
    write: (t) => {
      out += t;
    },
    writeError: (t) => {
      err += t;
    },
    bootstrapNames: opts.bootstrapNames ?? ['router.bittorrent.com:6881', 'a:1', 'b:2', 'c:3'],
    dataDirForHints: opts.dataDirForHints ?? '',
  });
  const chat = new FakeChat();
  const start = (name?: string): void =>
    plain.start({ code: OWN, name, port: 37060, apiPort: 41000, chat: chat as never });
  return { plain, chat, start, lines: () => out.split('\n').slice(0, -1), err: () => err };
}

const contact = (name: string, code: string): ContactView => ({
  name,
  code,
  presence: 'offline',
  lastSeen: null,
  profileName: null,
});

describe('DaemonConsole', () => {
  test('the greeting: who you are, your friends, what is waiting, how the DHT is joined; held lines follow it', () => {
    const { plain, chat, start, lines } = setUp({ dataDirForHints: '/tmp/my dir' });
    plain.logger.warn({ event: 'join_failed', reason: 'no DHT node answered', retryInMs: 1000, attempt: 1 });
    plain.logger.info({ event: 'bootstrapped', nodes: 0 });
    assert.deepEqual(lines(), [], 'nothing before start');
    chat.contactList = [contact('Bob', BOB), contact('Carol', `dhtchat:${'c'.repeat(58)}`)];
    chat.requestList = [{ code: EVE, receivedAt: 1 }];
    start('Alice');
    assert.deepEqual(lines(), [
      `dhtchat — you are Alice, friend code ${OWN}`,
      'chat and DHT on UDP port 37060 · local API on 127.0.0.1:41000',
      'friends: Bob, Carol',
      "1 friend request waiting: dhtchat --data-dir '/tmp/my dir' requests",
      'joining the DHT through 4 routers…',
      'cannot reach the DHT: no DHT node answered; retrying in 1 s',
    ]);
  });

  test('no name, no friends: the friend code and what to do with it', () => {
    const { start, lines } = setUp({ bootstrapNames: ['unresolvable.invalid:6881'] });
    start();
    assert.equal(lines()[0], `dhtchat — your friend code is ${OWN}`);
    assert.match(lines()[2]!, /^no friends yet: .* dhtchat add <their code> --name <name>$/);
    assert.equal(lines()[3], 'joining the DHT through unresolvable.invalid:6881…');
  });

  test('the DHT: failures with the retry delay (the same one not at every retry), then the node count', () => {
    const { plain, start, lines } = setUp();
    start();
    const skip = lines().length;
    for (let attempt = 1; attempt <= 12; attempt++) {
      const retryInMs = Math.min(1000 * 2 ** (attempt - 1), 16_000);
      plain.logger.warn({ event: 'join_failed', reason: 'x: name not found', retryInMs, attempt });
    }
    plain.logger.warn({
      event: 'join_failed',
      reason: 'no DHT node answered',
      retryInMs: 16_000,
      attempt: 13,
    });
    plain.logger.info({ event: 'rejoined', nodes: 31 });
    plain.logger.warn({ event: 'rejoining', reason: 'no DHT node answered for 65 s' });
    plain.logger.info({ event: 'rejoined', nodes: 1 });
    assert.deepEqual(lines().slice(skip), [
      'cannot reach the DHT: x: name not found; retrying in 1 s',
      'cannot reach the DHT: x: name not found; retrying in 2 s',
      'cannot reach the DHT: x: name not found; retrying in 4 s',
      'still cannot reach the DHT after 10 tries: x: name not found; retrying every 16 s',
      'cannot reach the DHT: no DHT node answered; retrying in 16 s',
      'on the DHT: 31 nodes',
      'rejoining the DHT: no DHT node answered for 65 s…',
      'on the DHT: 1 node',
    ]);
  });

  test('a first join: "on the DHT"; chat events in the log are not printed twice; debug is dropped', () => {
    const { plain, start, lines } = setUp();
    start();
    const skip = lines().length;
    plain.logger.info({ event: 'bootstrapped', nodes: 143 });
    plain.logger.info({ event: 'message', from: BOB, id: 'ab' });
    plain.logger.child({ part: 'dht' }).info({ externalHost: '1.2.3.4' }, 'external address confirmed');
    plain.logger.debug({ event: 'whatever' });
    plain.logger.info({ event: 'closed', signal: 'SIGINT' });
    assert.deepEqual(lines().slice(skip), ['on the DHT: 143 nodes', 'stopped (SIGINT)']);
  });

  test('chat events in words, with the names we gave our friends', () => {
    const { chat, start, lines } = setUp();
    chat.contactList = [contact('Bob', BOB)];
    start();
    const skip = lines().length;
    chat.emit('presence', { code: BOB, presence: 'online', lastSeen: 1 });
    chat.emit('message', {
      from: BOB,
      message: { id: '01', from: BOB, text: 'hello 👋 שלום', ts: 1, state: 'delivered' },
    });
    chat.emit('state', { with: BOB, id: '02', state: 'queued' });
    chat.emit('state', { with: BOB, id: '02', state: 'delivered' });
    chat.emit('state', { with: BOB, id: '02', state: 'read' });
    chat.emit('request', { code: EVE, name: 'Eve', message: 'hi, Eve here', receivedAt: 1 });
    chat.emit('accepted', contact('Eve', EVE));
    chat.emit('presence', { code: BOB, presence: 'offline', lastSeen: 2 });
    chat.emit('state', { with: BOB, id: '03', state: 'stored' });
    assert.deepEqual(lines().slice(skip), [
      'Bob is online',
      'Bob: hello 👋 שלום',
      'delivered to Bob',
      'Bob read your message',
      `friend request from Eve: "hi, Eve here" (accept with: dhtchat accept ${EVE})`,
      'you and Eve are now friends',
      'Bob went offline',
      'Bob is offline: your message waits in the DHT for them',
    ]);
  });

  test('a file transfer in words at each change of state (not its progress), its name escaped', () => {
    const { chat, start, lines } = setUp();
    chat.contactList = [contact('Bob', BOB)];
    start();
    const skip = lines().length;
    const transfer = {
      id: '3fa2c1d0'.repeat(4),
      with: BOB,
      direction: 'incoming',
      name: `evil\u202etxt.exe${HOSTILE}`,
      size: 3 * 1024 * 1024,
      state: 'offered',
      bytesDone: 0,
      bytesPerSec: 0,
      reason: null,
      path: null,
      createdAt: 1,
    };
    chat.emit('file', transfer);
    chat.emit('file', { ...transfer, state: 'transferring', bytesDone: 1000, bytesPerSec: 10 });
    chat.emit('file', { ...transfer, state: 'transferring', bytesDone: 2000, bytesPerSec: 10 });
    chat.emit('file', { ...transfer, state: 'complete', bytesDone: transfer.size, path: '/dl/evil.exe' });
    const got = lines().slice(skip);
    assert.equal(got.length, 3, got.join('\n'));
    for (const line of got) assert.doesNotMatch(line, /[\x00-\x08\x0b-\x1f\x7f\u202e]/, JSON.stringify(line));
    assert.match(
      got[0] ?? '',
      /^Bob offers evil\\u202etxt\.exe.*\(3\.0 MiB\): accept with dhtchat accept-file 3fa2c1d0$/,
    );
    assert.match(got[1] ?? '', /^file evil.* from Bob: started$/);
    assert.match(got[2] ?? '', /^received evil.* from Bob: \/dl\/evil\.exe$/);
  });

  test('text from others never reaches the terminal raw: names, request notes, messages, reasons', () => {
    const { plain, chat, start, lines } = setUp();
    chat.contactList = [contact('Bob\x1b[31m', BOB)];
    start('Al\u202eice');
    chat.emit('request', { code: EVE, name: `Eve${HOSTILE}`, message: HOSTILE, receivedAt: 1 });
    chat.emit('message', {
      from: BOB,
      message: { id: '01', from: BOB, text: HOSTILE, ts: 1, state: 'delivered' },
    });
    plain.logger.warn({ event: 'rejoining', reason: 'x\x1b]0;t\x07' });
    const all = lines();
    for (const line of all) assert.doesNotMatch(line, /[\x00-\x08\x0b-\x1f\x7f\u202e]/, JSON.stringify(line));
    assert.ok(all.includes('dhtchat — you are Al\\u202eice, friend code ' + OWN));
    assert.ok(all.includes('friends: Bob\\x1b[31m'));
    assert.ok(
      all.includes('Bob\\x1b[31m: hi\\x1b[2J\\x1b]0;owned\\x07\\r\\nFAKE: Alice: send me your password'),
      'the forged line stays inside the message',
    );
    assert.equal(all.filter((l) => l.startsWith('FAKE')).length, 0);
    assert.ok(all.some((l) => l.startsWith('friend request from Eve' + 'hi\\x1b[2J')));
    assert.ok(all.includes('rejoining the DHT: x\\x1b]0;t\\x07…'));
  });

  test('a fatal error goes to stderr; other warnings are one readable line', () => {
    const { plain, start, lines, err } = setUp();
    start();
    const skip = lines().length;
    plain.logger.warn({ event: 'save_failed', error: 'disk full' });
    plain.logger.warn({ event: 'loose_mode', path: '/d/chat.sqlite', mode: '0644', isFixed: true });
    plain.logger.child({ part: 'chat' }).warn({ error: 'x' }, 'chat service failed');
    plain.logger.error({ event: 'fatal', error: 'Error: boom\n    at x' });
    assert.deepEqual(lines().slice(skip), [
      'warning: save_failed (error=disk full)',
      'warning: /d/chat.sqlite was open to other users (mode 0644); made private',
    ]);
    assert.equal(err(), 'fatal: Error: boom\\n    at x\n');
  });

  test('port mapping: the forwarded endpoint in words; skipped, renewed and removed lines stay quiet', () => {
    const { plain, start, lines } = setUp();
    start('Alice');
    const before = lines().length;
    plain.logger.info({ event: 'port_mapping_skipped', reason: 'public address 203.0.113.9' });
    plain.logger.info({
      event: 'port_mapped',
      protocol: 'pcp',
      external: '203.0.113.7:37060',
      lifetimeS: 7200,
    });
    plain.logger.debug({ event: 'port_mapping_renewed', protocol: 'pcp', external: '203.0.113.7:37060' });
    plain.logger.warn({ event: 'port_mapping_lost', protocol: 'pcp', external: '203.0.113.7:37060' });
    plain.logger.info({
      event: 'port_unmapped',
      protocol: 'pcp',
      external: '203.0.113.7:37060',
      isConfirmed: true,
    });
    assert.deepEqual(lines().slice(before), [
      'your router forwards 203.0.113.7:37060 to this daemon (pcp): friends can reach you there',
      'your router dropped its port forwarding for this daemon; asking again…',
    ]);
  });
});
