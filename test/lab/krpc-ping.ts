/**
 * One unsolicited KRPC ping from a fresh socket: run inside a lab namespace as
 *   node --import tsx test/lab/krpc-ping.ts <host> <port> <waitMs>
 * prints {"answered":true|false}. It shows whether a packet nobody asked for gets through a NAT to a daemon.
 *
 *   this namespace: fresh socket ──KRPC ping──► host:port (a public node, or a NAT's WAN where a daemon hides)
 */
import { DhtNode } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? '0');
const waitMs = Number(process.argv[4] ?? '3000');
const transport = await UdpTransport.bind({ host: '0.0.0.0', port: 0 });
const node = new DhtNode({
  transport,
  clock: systemClock,
  random: cryptoRandom,
  allowPrivate: true,
  queryTimeoutMs: waitMs,
  queryRetries: 0,
});
const answered = await node.ping({ host, port }).then(
  () => true,
  () => false,
);
process.stdout.write(`${JSON.stringify({ answered })}\n`);
node.close();
transport.close();
