/**
 * A home router for port-mapping tests, on the in-memory network and virtual time: PCP and NAT-PMP on
 * GATEWAY:5351, SSDP on the multicast group, an IGD (v1 or v2) behind a fake HttpRequester. Each protocol can be
 * switched off (silent), and the router can be made to restart (epoch back to 0, mappings gone), change its
 * external address, grant other lifetimes, or refuse. It keeps the table of what is mapped, so tests assert on
 * the router's side of the story, not only on what the client says.
 *
 *   client 192.168.1.2:any ──► 192.168.1.1:5351 (PCP / NAT-PMP)
 *                          ──► 239.255.255.250:1900 (M-SEARCH) ◄── answer from 192.168.1.1:1900
 *                          ──► http://192.168.1.1:5000/desc.xml, /ctl (SOAP)
 */
import { MemoryNetwork } from '../../../sim/memory-network.ts';
import type { HttpRequester, HttpResult } from '../../../src/net/index.ts';
import { parseXml } from '../../../src/net/port-mapping/xml-elements.ts';
import {
  type Clock,
  type DatagramTransport,
  ManualClock,
  SeededRandom,
  type UdpAddress,
} from '../../../src/runtime/index.ts';

export const GATEWAY = '192.168.1.1';
export const CLIENT = '192.168.1.2';
export const DESCRIPTION_URL = `http://${GATEWAY}:5000/desc.xml`;

export interface RouterMapping {
  protocol: 'pcp' | 'natpmp' | 'upnp';
  internalPort: number;
  externalPort: number;
  expiresAtMs: number;
}

export interface FakeGatewaySettings {
  pcp: 'on' | 'off' | 'natpmp-only';
  natpmp: 'on' | 'off';
  upnp: 'v1' | 'v2' | 'off';
  externalHost: string;
  /** Lifetime granted whatever is asked (undefined: what was asked). */
  grantedLifetimeS: number | undefined;
  /** PCP/NAT-PMP result code to answer map requests with (0: success). */
  refuseWith: number;
  /** External ports UPnP AddPortMapping reports as taken (718). */
  upnpTakenPorts: Set<number>;
  upnpPermanentOnly: boolean;
}

export class FakeGateway {
  readonly settings: FakeGatewaySettings = {
    pcp: 'on',
    natpmp: 'on',
    upnp: 'v1',
    externalHost: '203.0.113.7',
    grantedLifetimeS: undefined,
    refuseWith: 0,
    upnpTakenPorts: new Set(),
    upnpPermanentOnly: false,
  };
  readonly mappings = new Map<number, RouterMapping>();
  readonly received = { pcp: 0, natpmp: 0, ssdp: 0, http: 0 };
  readonly #clock: Clock;
  #bootMs: number;

  constructor(clock: Clock, network: MemoryNetwork) {
    this.#clock = clock;
    this.#bootMs = clock.monotonicMs();
    const port = network.createTransport({ host: GATEWAY, port: 5351 });
    port.onPacket((bytes, from) => this.#onPortControl(port, bytes, from));
    const ssdpReply = network.createTransport({ host: GATEWAY, port: 1900 });
    const ssdp = network.createTransport({ host: '239.255.255.250', port: 1900 });
    ssdp.onPacket((bytes, from) => {
      this.received.ssdp++;
      if (this.settings.upnp === 'off' || !bytes.toString('latin1').startsWith('M-SEARCH')) return;
      ssdpReply.send(
        Buffer.from(`HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: ${DESCRIPTION_URL}\r\n\r\n`, 'latin1'),
        from,
      );
    });
  }

  /** The router reboots: its epoch starts again and every mapping is gone. */
  restart(): void {
    this.#bootMs = this.#clock.monotonicMs();
    this.mappings.clear();
  }

  /** Live mappings (expired ones dropped). */
  live(): RouterMapping[] {
    const now = this.#clock.monotonicMs();
    return [...this.mappings.values()].filter((m) => m.expiresAtMs > now);
  }

  readonly http: HttpRequester = async (request) => {
    this.received.http++;
    if (this.settings.upnp === 'off') return { ok: false, reason: 'connection refused' };
    if (request.method === 'GET') return { ok: true, status: 200, body: this.#description() };
    const action = /#(\w+)"/.exec(request.headers['SOAPAction'] ?? '')?.[1] ?? '';
    const args = soapArguments(request.body ?? '');
    return this.#soap(action, args);
  };

  #epochS(): number {
    return Math.floor((this.#clock.monotonicMs() - this.#bootMs) / 1000);
  }

  #onPortControl(port: DatagramTransport, bytes: Buffer, from: UdpAddress): void {
    if (bytes[0] === 2) {
      this.received.pcp++;
      if (this.settings.pcp === 'off') return;
      if (this.settings.pcp === 'natpmp-only') {
        const answer = Buffer.alloc(8);
        answer[1] = 128 + (bytes[1] ?? 0);
        answer.writeUInt16BE(1, 2);
        answer.writeUInt32BE(this.#epochS(), 4);
        port.send(answer, from);
        return;
      }
      port.send(this.#pcpAnswer(bytes), from);
      return;
    }
    if (bytes[0] === 0) {
      this.received.natpmp++;
      if (this.settings.natpmp === 'off') return;
      const answer = this.#natpmpAnswer(bytes);
      if (answer !== undefined) port.send(answer, from);
    }
  }

  #grant(protocol: RouterMapping['protocol'], internalPort: number, suggested: number, lifetimeS: number) {
    if (lifetimeS === 0) {
      this.mappings.delete(internalPort);
      return { externalPort: 0, lifetimeS: 0 };
    }
    const granted = this.settings.grantedLifetimeS ?? lifetimeS;
    const externalPort = this.mappings.get(internalPort)?.externalPort ?? (suggested || internalPort);
    this.mappings.set(internalPort, {
      protocol,
      internalPort,
      externalPort,
      expiresAtMs: this.#clock.monotonicMs() + granted * 1000,
    });
    return { externalPort, lifetimeS: granted };
  }

  #pcpAnswer(request: Buffer): Buffer {
    const answer = Buffer.alloc(60);
    answer[0] = 2;
    answer[1] = 0x81;
    answer.writeUInt32BE(this.#epochS(), 8);
    request.copy(answer, 24, 24, 60);
    if (this.settings.refuseWith !== 0) {
      answer[3] = this.settings.refuseWith;
      answer.writeUInt32BE(30, 4);
      return answer;
    }
    const internalPort = request.readUInt16BE(40);
    const granted = this.#grant('pcp', internalPort, request.readUInt16BE(42), request.readUInt32BE(4));
    answer.writeUInt32BE(granted.lifetimeS, 4);
    answer.writeUInt16BE(granted.externalPort, 42);
    answer.fill(0, 44, 60);
    answer.writeUInt16BE(0xffff, 54);
    Buffer.from(this.settings.externalHost.split('.').map(Number)).copy(answer, 56);
    return answer;
  }

  #natpmpAnswer(request: Buffer): Buffer | undefined {
    if (request[1] === 0 && request.length === 2) {
      const answer = Buffer.alloc(12);
      answer[1] = 128;
      answer.writeUInt32BE(this.#epochS(), 4);
      Buffer.from(this.settings.externalHost.split('.').map(Number)).copy(answer, 8);
      return answer;
    }
    if (request[1] !== 1 || request.length !== 12) return undefined;
    const answer = Buffer.alloc(16);
    answer[1] = 129;
    answer.writeUInt32BE(this.#epochS(), 4);
    if (this.settings.refuseWith !== 0) {
      answer.writeUInt16BE(this.settings.refuseWith, 2);
      return answer;
    }
    const internalPort = request.readUInt16BE(4);
    const granted = this.#grant('natpmp', internalPort, request.readUInt16BE(6), request.readUInt32BE(8));
    answer.writeUInt16BE(internalPort, 8);
    answer.writeUInt16BE(granted.externalPort, 10);
    answer.writeUInt32BE(granted.lifetimeS, 12);
    return answer;
  }

  #description(): string {
    const type =
      this.settings.upnp === 'v2'
        ? 'urn:schemas-upnp-org:service:WANIPConnection:2'
        : 'urn:schemas-upnp-org:service:WANIPConnection:1';
    return (
      '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceList><device>' +
      `<serviceList><service><serviceType>${type}</serviceType><controlURL>/ctl</controlURL></service>` +
      '</serviceList></device></deviceList></device></root>'
    );
  }

  #soap(action: string, args: Map<string, string>): HttpResult {
    const respond = (values: Record<string, string | number>): HttpResult => ({
      ok: true,
      status: 200,
      body:
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' +
        `<u:${action}Response xmlns:u="x">` +
        Object.entries(values)
          .map(([k, v]) => `<${k}>${v}</${k}>`)
          .join('') +
        `</u:${action}Response></s:Body></s:Envelope>`,
    });
    const fault = (code: number): HttpResult => ({
      ok: true,
      status: 500,
      body:
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><detail>' +
        `<UPnPError><errorCode>${code}</errorCode><errorDescription>no</errorDescription></UPnPError>` +
        '</detail></s:Fault></s:Body></s:Envelope>',
    });
    const port = (name: string): number => Number(args.get(name));
    switch (action) {
      case 'GetExternalIPAddress':
        return respond({ NewExternalIPAddress: this.settings.externalHost });
      case 'AddPortMapping':
      case 'AddAnyPortMapping': {
        if (this.settings.refuseWith !== 0) return fault(606);
        const lease = port('NewLeaseDuration');
        if (this.settings.upnpPermanentOnly && lease !== 0) return fault(725);
        let external = port('NewExternalPort');
        if (this.settings.upnpTakenPorts.has(external)) {
          if (action === 'AddPortMapping') return fault(718);
          while (this.settings.upnpTakenPorts.has(external)) external++;
        }
        const internal = port('NewInternalPort');
        this.mappings.set(internal, {
          protocol: 'upnp',
          internalPort: internal,
          externalPort: external,
          expiresAtMs: lease === 0 ? Number.POSITIVE_INFINITY : this.#clock.monotonicMs() + lease * 1000,
        });
        return respond(action === 'AddAnyPortMapping' ? { NewReservedPort: external } : {});
      }
      case 'DeletePortMapping': {
        const external = port('NewExternalPort');
        const found = [...this.mappings.values()].find((m) => m.externalPort === external);
        if (found === undefined) return fault(714);
        this.mappings.delete(found.internalPort);
        return respond({});
      }
      default:
        return fault(401);
    }
  }
}

function soapArguments(body: string): Map<string, string> {
  const parsed = parseXml(body);
  const out = new Map<string, string>();
  if (!parsed.ok) return out;
  const action = parsed.root.children[0]?.children[0];
  for (const child of action?.children ?? []) out.set(child.name, child.text);
  return out;
}

/** A fresh world: virtual clock, memory network, the router, and the client's socket address. */
export function gatewayWorld(seed = 'gateway') {
  const clock = new ManualClock();
  const random = new SeededRandom(seed);
  const network = new MemoryNetwork(clock, random, { latencyMs: 2 });
  const gateway = new FakeGateway(clock, network);
  const clientTransport = network.createTransport({ host: CLIENT, port: 0 });
  return { clock, random, network, gateway, clientTransport };
}

/**
 * Runs virtual time forward in small steps, letting promise callbacks run between them, until `done` holds or
 * `maxMs` of virtual time passed.
 */
export async function runUntil(
  clock: ManualClock,
  done: () => boolean,
  maxMs: number,
  stepMs = 10,
): Promise<void> {
  const endMs = clock.monotonicMs() + maxMs;
  while (!done() && clock.monotonicMs() < endMs) {
    clock.advance(stepMs);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Awaits a promise while virtual time runs (bounded by maxMs of virtual time). */
export async function settle<T>(clock: ManualClock, promise: Promise<T>, maxMs = 60_000): Promise<T> {
  let isDone = false;
  const tracked = promise.finally(() => {
    isDone = true;
  });
  await runUntil(clock, () => isDone, maxMs);
  if (!isDone) throw new Error(`did not settle within ${maxMs} ms of virtual time`);
  return tracked;
}
