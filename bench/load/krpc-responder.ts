/**
 * krpc-responder: the reference server of the load benches, a KrpcReplier (krpc-reply.ts) on one UDP socket.
 * It is the ceiling "a plain Node.js KRPC server" that our DHT node and bootstrap server are compared with, in
 * the same run, so the ratio survives a noisy machine.
 *
 *   node --import tsx bench/load/krpc-responder.ts [--host 127.0.0.1] [--port 0] [--max-seconds 600]
 *
 * Prints {"event":"listening","host","port","pid"} once bound, and {"event":"stopped","answered","ignored",
 * "cpuUsPerReply"} on SIGTERM or when --max-seconds have passed. Loopback only.
 */
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { KrpcReplier } from './krpc-reply.ts';
import { isLoopbackIpv4 } from './loopback-hosts.ts';

const SOCKET_BUFFER_BYTES = 4 << 20;

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'max-seconds': { type: 'string', default: '600' },
  },
});
if (!isLoopbackIpv4(values.host)) throw new Error(`loopback (127.0.0.0/8) only: ${values.host}`);
const maxSeconds = Math.min(600, Number(values['max-seconds']));

const replier = new KrpcReplier();
const socket = dgram.createSocket({
  type: 'udp4',
  recvBufferSize: SOCKET_BUFFER_BYTES,
  sendBufferSize: SOCKET_BUFFER_BYTES,
});
let answered = 0;
let ignored = 0;
const cpuStart = process.cpuUsage();
socket.on('message', (packet, from) => {
  const reply = replier.reply(packet, from.address, from.port);
  if (reply === undefined) {
    ignored++;
    return;
  }
  answered++;
  socket.send(reply, from.port, from.address);
});
socket.on('error', () => {});
socket.bind(Number(values.port), values.host, () => {
  const { port } = socket.address();
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', host: values.host, port, pid: process.pid })}\n`,
  );
});

function stop(): void {
  const cpu = process.cpuUsage(cpuStart);
  const cpuUsPerReply = (cpu.user + cpu.system) / Math.max(1, answered);
  process.stdout.write(`${JSON.stringify({ event: 'stopped', answered, ignored, cpuUsPerReply })}\n`);
  process.exit(0);
}
process.on('SIGTERM', stop);
setTimeout(stop, maxSeconds * 1000).unref();
