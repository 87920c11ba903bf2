/**
 * Proves a lab router's miniupnpd maps ports through each protocol; run inside a host namespace behind it as
 *   node --import tsx test/lab/port-mapping-probe.ts <own address> <gateway>
 * For each of NAT-PMP (RFC 6886), PCP (RFC 6887) and UPnP IGD (WANIPConnection AddPortMapping), a fresh UDP
 * socket asks for a mapping of its port, then asks the probe server to send to the mapped external port from
 * the other address (a stranger to the NAT). Prints one JSON line:
 *   {"natpmp":{"external":"ip:port","isReachable":bool},"pcp":{…},"upnp":{…}}   (an "error" field if a step failed)
 * These are the lab's own minimal clients, only enough to show the router works; the product's port mapping is
 * issue 11 §3.
 *
 *   this host ──NAT-PMP/PCP :5351, SSDP :1900, HTTP──► miniupnpd (router lan0) ── maps WAN:E → this host:p
 *   probe server B (198.18.0.2) ──► WAN:E ──► this host:p ?      (asked for through A1, 198.18.0.1:3478)
 */
import { createSocket, type Socket } from 'node:dgram';

const PROBE_A1 = { host: '198.18.0.1', port: 3478 };
const NAT_PMP_PORT = 5351;
const SSDP = { host: '239.255.255.250', port: 1900 };
const LIFETIME_S = 120;
const WAIT_MS = 3_000;

const ownAddress = process.argv[2] ?? '';
const gateway = process.argv[3] ?? '';

const results: Record<string, unknown> = {};
for (const [name, mapper] of [
  ['natpmp', mapWithNatPmp],
  ['pcp', mapWithPcp],
  ['upnp', mapWithUpnp],
] as const) {
  const socket = await bound();
  try {
    const external = await mapper(socket);
    results[name] = { external, isReachable: await isReachableAt(socket, external) };
  } catch (error) {
    results[name] = { error: String(error) };
  } finally {
    socket.close();
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);

/** NAT-PMP: opcode 0 for the external address, opcode 1 to map UDP (internal port = suggested external port). */
async function mapWithNatPmp(socket: Socket): Promise<string> {
  const address = await exchange(socket, Buffer.from([0, 0]), (r) => r.length >= 12 && r[1] === 128);
  if (address.readUInt16BE(2) !== 0) throw new Error(`NAT-PMP address result ${address.readUInt16BE(2)}`);
  const host = [...address.subarray(8, 12)].join('.');
  const request = Buffer.alloc(12);
  request[1] = 1;
  request.writeUInt16BE(socket.address().port, 4);
  request.writeUInt16BE(socket.address().port, 6);
  request.writeUInt32BE(LIFETIME_S, 8);
  const mapped = await exchange(socket, request, (r) => r.length >= 16 && r[1] === 129);
  if (mapped.readUInt16BE(2) !== 0) throw new Error(`NAT-PMP map result ${mapped.readUInt16BE(2)}`);
  return `${host}:${mapped.readUInt16BE(10)}`;
}

/** PCP MAP (version 2, opcode 1) for UDP, our address as the client IP (IPv4-mapped). */
async function mapWithPcp(socket: Socket): Promise<string> {
  const request = Buffer.alloc(60);
  request[0] = 2;
  request[1] = 1;
  request.writeUInt32BE(LIFETIME_S, 4);
  ipv4Mapped(ownAddress).copy(request, 8);
  Buffer.from('dhtchat-lab!').copy(request, 24); // 12-byte nonce
  request[36] = 17; // UDP
  request.writeUInt16BE(socket.address().port, 40);
  request.writeUInt16BE(socket.address().port, 42);
  const reply = await exchange(socket, request, (r) => r.length >= 60 && r[0] === 2 && r[1] === 0x81);
  if (reply[3] !== 0) throw new Error(`PCP result ${reply[3]}`);
  return `${[...reply.subarray(56, 60)].join('.')}:${reply.readUInt16BE(42)}`;
}

/** UPnP IGD: SSDP search, the device description, then WANIPConnection AddPortMapping and GetExternalIPAddress. */
async function mapWithUpnp(socket: Socket): Promise<string> {
  const search = Buffer.from(
    'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\n' +
      'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n',
  );
  const answer = await exchange(socket, search, (r) => /^HTTP\/1\.1 200/i.test(r.toString()), SSDP);
  const location = /^location:\s*(\S+)/im.exec(answer.toString())?.[1];
  if (location === undefined) throw new Error('SSDP answer without LOCATION');
  const description = await (await fetch(location, { signal: AbortSignal.timeout(WAIT_MS) })).text();
  // miniupnpd describes an IGD v2 (WANIPConnection:2) unless force_igd_desc_v1; take what it offers.
  const service = /<serviceType>(urn:schemas-upnp-org:service:WANIPConnection:\d)<\/serviceType>/.exec(
    description,
  )?.[1];
  if (service === undefined) throw new Error('no WANIPConnection service');
  const afterService = description.slice(description.indexOf(`<serviceType>${service}</serviceType>`));
  const controlPath = /<controlURL>([^<]+)<\/controlURL>/.exec(afterService)?.[1];
  if (controlPath === undefined) throw new Error('no WANIPConnection control URL');
  const control = new URL(controlPath, location).toString();
  const port = socket.address().port;
  await soap(control, service, 'AddPortMapping', {
    NewRemoteHost: '',
    NewExternalPort: String(port),
    NewProtocol: 'UDP',
    NewInternalPort: String(port),
    NewInternalClient: ownAddress,
    NewEnabled: '1',
    NewPortMappingDescription: 'dhtchat lab',
    NewLeaseDuration: String(LIFETIME_S),
  });
  const external = await soap(control, service, 'GetExternalIPAddress', {});
  const host = /<NewExternalIPAddress>([^<]+)</.exec(external)?.[1];
  if (host === undefined) throw new Error('no NewExternalIPAddress');
  return `${host}:${port}`;
}

async function soap(
  url: string,
  service: string,
  action: string,
  args: Record<string, string>,
): Promise<string> {
  const body =
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${action} xmlns:u="${service}">` +
    Object.entries(args)
      .map(([k, v]) => `<${k}>${v}</${k}>`)
      .join('') +
    `</u:${action}></s:Body></s:Envelope>`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset="utf-8"', SOAPAction: `"${service}#${action}"` },
    body,
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${action}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return text;
}

/** Does a packet from a stranger (the probe server's other address) to `external` reach this socket? */
async function isReachableAt(socket: Socket, external: string): Promise<boolean> {
  const port = Number(external.slice(external.lastIndexOf(':') + 1));
  let isReached = false;
  socket.on('message', (bytes) => {
    if (bytes.toString().includes('"via"')) isReached = true;
  });
  const request = JSON.stringify({ op: 'filter', t: 1, via: 'other-address', port });
  await exchange(socket, Buffer.from(request), (r) => r.toString().includes('"ack"'), PROBE_A1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return isReached;
}

/** Sends request (to the gateway's NAT-PMP/PCP port unless told) until an answer passes isAnswer. */
function exchange(
  socket: Socket,
  request: Buffer,
  isAnswer: (reply: Buffer) => boolean,
  to = { host: gateway, port: NAT_PMP_PORT },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let attempts = 0;
    const onMessage = (bytes: Buffer): void => {
      if (!isAnswer(bytes)) return;
      finish();
      resolve(bytes);
    };
    const send = (): void => {
      if (attempts++ >= 4) {
        finish();
        reject(new Error(`no answer from ${to.host}:${to.port}`));
        return;
      }
      socket.send(request, to.port, to.host);
    };
    const timer = setInterval(send, WAIT_MS / 4);
    const finish = (): void => {
      clearInterval(timer);
      socket.off('message', onMessage);
    };
    socket.on('message', onMessage);
    send();
  });
}

function ipv4Mapped(address: string): Buffer {
  return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...address.split('.').map(Number)]);
}

function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '0.0.0.0', () => resolve(socket));
  });
}
