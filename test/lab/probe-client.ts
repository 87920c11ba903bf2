/**
 * Classifies the NAT in front of this host against the lab's probe server; run inside a host namespace as
 *   node --import tsx test/lab/probe-client.ts <own address>
 * and prints one JSON line: {"mapping","filtering","isPortPreserving","hasHairpin","observed":{…}}
 * (nat-classification.ts names the classes and how each is decided).
 *
 *   this host ──► NAT(s) ──► A1 198.18.0.1:3478, A2 198.18.0.1:3479, B1 198.18.0.2:3478 (probe-server.ts)
 *
 * Every request is retried (UDP on a loaded machine) and every wait is bounded: the whole run takes at most a
 * few seconds.
 */
import { createSocket, type Socket } from 'node:dgram';
import {
  classifyFiltering,
  classifyMapping,
  isPortPreserving,
  type MappingObservation,
} from './nat-classification.ts';

const A1 = { host: '198.18.0.1', port: 3478 };
const A2 = { host: '198.18.0.1', port: 3479 };
const B1 = { host: '198.18.0.2', port: 3478 };
const ATTEMPTS = 4;
const ATTEMPT_WAIT_MS = 400;
/** After the ack, how long a "via" packet that was let in may still be on its way. */
const FILTER_GRACE_MS = 300;
const HAIRPIN_WAIT_MS = 600;

const ownAddress = process.argv[2] ?? '0.0.0.0';
let nextT = 1;

const mapping = await observeMapping();
const [otherAddress, otherPort] = await Promise.all([
  filterLetsIn('other-address'),
  filterLetsIn('other-port'),
]);
const hasHairpin = await hairpins();
process.stdout.write(
  `${JSON.stringify({
    mapping: classifyMapping(mapping),
    filtering: classifyFiltering({ otherAddress, otherPort }),
    isPortPreserving: isPortPreserving(mapping),
    hasHairpin,
    observed: { ...mapping, otherAddress, otherPort },
  })}\n`,
);

async function observeMapping(): Promise<MappingObservation> {
  const socket = await bound();
  try {
    const local = `${ownAddress}:${socket.address().port}`;
    const viaA1 = await mappedVia(socket, A1);
    const viaA2 = await mappedVia(socket, A2);
    const viaB1 = await mappedVia(socket, B1);
    return { local, viaA1, viaA2, viaB1 };
  } finally {
    socket.close();
  }
}

/** A fresh socket that talks to A1 only: does the packet A1 has sent from elsewhere get through? */
async function filterLetsIn(via: 'other-address' | 'other-port'): Promise<boolean> {
  const socket = await bound();
  try {
    let isLetIn = false;
    socket.on('message', (bytes) => {
      if (parse(bytes)['via'] === via) isLetIn = true;
    });
    await request(socket, A1, { op: 'filter', via }, (reply) => reply['ack'] === true);
    await delay(FILTER_GRACE_MS);
    return isLetIn;
  } finally {
    socket.close();
  }
}

/** From a second socket on this host, a packet to the first socket's public mapping: does it arrive? */
async function hairpins(): Promise<boolean> {
  const target = await bound();
  const sender = await bound();
  try {
    const mapped = await mappedVia(target, A1);
    const [host, port] = [
      mapped.slice(0, mapped.lastIndexOf(':')),
      Number(mapped.slice(mapped.lastIndexOf(':') + 1)),
    ];
    let isReceived = false;
    target.on('message', (bytes) => {
      if (parse(bytes)['hairpin'] === true) isReceived = true;
    });
    for (let i = 0; i < ATTEMPTS && !isReceived; i++) {
      sender.send(JSON.stringify({ hairpin: true }), port, host);
      await delay(HAIRPIN_WAIT_MS / ATTEMPTS);
    }
    await delay(FILTER_GRACE_MS);
    return isReceived;
  } finally {
    target.close();
    sender.close();
  }
}

async function mappedVia(socket: Socket, to: { host: string; port: number }): Promise<string> {
  const reply = await request(socket, to, { op: 'map' }, (r) => typeof r['mapped'] === 'string');
  return String(reply['mapped']);
}

/** Sends body to `to` until a reply with our t satisfies isAnswer (ATTEMPTS × ATTEMPT_WAIT_MS at most). */
function request(
  socket: Socket,
  to: { host: string; port: number },
  body: Record<string, unknown>,
  isAnswer: (reply: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const t = nextT++;
  return new Promise((resolve, reject) => {
    let attempts = 0;
    const onMessage = (bytes: Buffer): void => {
      const reply = parse(bytes);
      if (reply['t'] !== t || !isAnswer(reply)) return;
      finish();
      resolve(reply);
    };
    const send = (): void => {
      if (attempts++ >= ATTEMPTS) {
        finish();
        reject(new Error(`no answer from ${to.host}:${to.port} to ${JSON.stringify(body)}`));
        return;
      }
      socket.send(JSON.stringify({ t, ...body }), to.port, to.host);
    };
    const timer = setInterval(send, ATTEMPT_WAIT_MS);
    const finish = (): void => {
      clearInterval(timer);
      socket.off('message', onMessage);
    };
    socket.on('message', onMessage);
    send();
  });
}

function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '0.0.0.0', () => resolve(socket));
  });
}

function parse(bytes: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
