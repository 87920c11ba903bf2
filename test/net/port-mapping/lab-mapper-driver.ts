/**
 * Runs inside the lab's host namespace (miniupnpd-lab.test.ts): the daemon's port-mapping wiring with one
 * protocol, for one UDP socket, as JSON lines on stdout.
 *
 *   node --import tsx lab-mapper-driver.ts <pcp|natpmp|upnp|all> <port> <lifetimeS>
 *
 * Prints {"event":"asking","time"} when it starts asking (the wiring's lines carry "time" too, so the time to a
 * mapping is port_mapped.time − asking.time), the wiring's log lines (port_mapped, port_mapping_renewed,
 * port_unmapped, …), {"event":"packet","text"}
 * for every datagram our socket receives, and {"event":"closed"} once "unmap" on stdin has removed the mapping —
 * after which the socket stays open, so the test can show that nothing gets through any more.
 */
import { createInterface } from 'node:readline';
import { startPortMapping } from '../../../src/app/port-mapping-wiring.ts';
import { MappingProtocolName } from '../../../src/net/index.ts';
import { cryptoRandom, jsonLinesLogger, systemClock, UdpTransport } from '../../../src/runtime/index.ts';

const [protocol, portText, lifetimeText] = process.argv.slice(2);
const all = Object.values(MappingProtocolName);
if (protocol !== 'all' && !all.includes(protocol as MappingProtocolName)) {
  throw new Error(`usage: lab-mapper-driver.ts <pcp|natpmp|upnp|all> <port> <lifetimeS>, got ${protocol}`);
}
const print = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
};
const socket = await UdpTransport.bind({ host: '0.0.0.0', port: Number(portText) });
socket.onPacket((bytes, from) => print({ event: 'packet', text: bytes.toString('utf8'), from }));
print({ event: 'asking', time: Date.now() });
const wiring = await startPortMapping({
  isEnabled: true,
  socket: socket.localAddress(),
  bootstrapHosts: [],
  logger: jsonLinesLogger((line) => process.stdout.write(line), 'debug'),
  clock: systemClock,
  random: cryptoRandom,
  onEndpointsChanged: () => print({ event: 'endpoints', endpoints: wiring.endpoints() }),
  protocols: protocol === 'all' ? all : [protocol as MappingProtocolName],
  timing: { requestedLifetimeS: Number(lifetimeText) },
});
createInterface({ input: process.stdin }).on('line', (command) => {
  if (command.trim() === 'unmap') void wiring.close().then(() => print({ event: 'closed' }));
});
process.on('SIGTERM', () => {
  socket.close();
  process.exit(0);
});
