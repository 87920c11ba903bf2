/**
 * Port mapping for the daemon: decides whether to ask at all, binds the small socket the clients ask from, builds
 * PCP → NAT-PMP → UPnP against the default gateway, and turns the PortMapper's events into log lines and
 * "our endpoints changed" (the rendezvous records republish).
 *
 * Nothing is sent — one `port_mapping_skipped` line says why — when:
 *   - the daemon's socket is bound to one address that is not our address towards the gateway (127.0.0.1 in
 *     tests, or another interface: a mapping would point where nobody listens);
 *   - every bootstrap contact is loopback (a local test network: no one outside learns our endpoint anyway);
 *   - there is no default IPv4 gateway (not Linux, no route, IPv6 only);
 *   - our address towards the gateway is not a NAT's inside (RFC 1918, 100.64/10): a public host needs no mapping.
 * `--no-port-mapping` turns it all off without a line.
 */
import {
  type AttemptResult,
  isNatInsideHost,
  type MappingProtocol,
  MappingProtocolName,
  NatPmpClient,
  PcpClient,
  PortMapper,
  type PortMapperTiming,
  type PortMappingEvent,
  UdpExchange,
  UpnpClient,
} from '../net/index.ts';
import {
  type Clock,
  formatAddress,
  type Logger,
  type Random,
  type UdpAddress,
  UdpTransport,
} from '../runtime/index.ts';
import { type DefaultGateway, findDefaultGateway } from './default-gateway.ts';
import { gatewayHttp } from './gateway-http.ts';

export interface PortMappingWiringOptions {
  isEnabled: boolean;
  /** The chat socket's local address (host may be 0.0.0.0). */
  socket: UdpAddress;
  /** The bootstrap contacts' hosts (names or addresses): all loopback means a local test network. */
  bootstrapHosts: readonly string[];
  logger: Logger;
  clock: Clock;
  random: Random;
  /** Called when the mapped endpoint appears, changes or goes. */
  onEndpointsChanged(): void;
  /** Which protocols to try, in order (default: PCP, NAT-PMP, UPnP). The lab tests ask one at a time. */
  protocols?: readonly MappingProtocolName[];
  /** Default: the default route's (findDefaultGateway). */
  findGateway?: () => DefaultGateway | undefined;
  timing?: Partial<PortMapperTiming>;
}

export interface PortMappingWiring {
  /** The mapped external endpoint while a mapping holds (to publish first among ours). */
  endpoints(): UdpAddress[];
  /** Deletes the mapping (bounded wait) and closes the socket. */
  close(): Promise<void>;
}

const OFF: PortMappingWiring = { endpoints: () => [], close: async () => {} };
const ALL_PROTOCOLS: readonly MappingProtocolName[] = [
  MappingProtocolName.pcp,
  MappingProtocolName.natpmp,
  MappingProtocolName.upnp,
];

export async function startPortMapping(opts: PortMappingWiringOptions): Promise<PortMappingWiring> {
  if (!opts.isEnabled) return OFF;
  const skip = (reason: string): PortMappingWiring => {
    opts.logger.info({ event: 'port_mapping_skipped', reason });
    return OFF;
  };
  const gateway = (opts.findGateway ?? findDefaultGateway)();
  const isAnyAddress = opts.socket.host === '0.0.0.0' || opts.socket.host === '::';
  if (!isAnyAddress && opts.socket.host !== gateway?.localHost) {
    return skip(`socket bound to ${opts.socket.host}`);
  }
  if (opts.bootstrapHosts.length > 0 && opts.bootstrapHosts.every(isLoopback)) {
    return skip('loopback network');
  }
  if (gateway === undefined) return skip('no default gateway');
  if (!isNatInsideHost(gateway.localHost)) return skip(`public address ${gateway.localHost}`);

  let transport: UdpTransport;
  try {
    transport = await UdpTransport.bind({ host: gateway.localHost, port: 0, bufferBytes: 65_536 });
  } catch (error) {
    return skip(`cannot bind ${gateway.localHost}: ${String(error)}`);
  }
  const exchange = new UdpExchange(transport, opts.clock);
  const mapper = new PortMapper({
    internalPort: opts.socket.port,
    protocols: (opts.protocols ?? ALL_PROTOCOLS).map((name) =>
      clientFor(name, gateway, exchange, opts.clock, opts.random),
    ),
    clock: opts.clock,
    random: opts.random,
    logger: opts.logger.child({ part: 'port-mapping' }),
    ...(opts.timing === undefined ? {} : { timing: opts.timing }),
  });
  mapper.onEvent((event) => {
    logEvent(opts.logger, event);
    if (event.type === 'mapped' || event.type === 'changed' || event.type === 'lost')
      opts.onEndpointsChanged();
  });
  mapper.start();
  return {
    endpoints: () => {
      const external = mapper.external();
      return external === undefined ? [] : [external];
    },
    close: async () => {
      await mapper.close();
      exchange.close();
    },
  };
}

function clientFor(
  name: MappingProtocolName,
  gateway: DefaultGateway,
  exchange: UdpExchange,
  clock: Clock,
  random: Random,
): MappingProtocol {
  switch (name) {
    case MappingProtocolName.pcp:
      return new PcpClient({
        exchange,
        clock,
        gateway: gateway.gateway,
        clientHost: gateway.localHost,
        random,
      });
    case MappingProtocolName.natpmp:
      return new NatPmpClient({ exchange, clock, gateway: gateway.gateway });
    case MappingProtocolName.upnp:
      return new UpnpClient({
        exchange,
        gateway: gateway.gateway,
        internalHost: gateway.localHost,
        http: gatewayHttp,
        random,
      });
  }
}

/** One log line per event: `port_mapped` and `port_unmapped` at info, trouble at warn, renewals at debug. */
function logEvent(logger: Logger, event: PortMappingEvent): void {
  switch (event.type) {
    case 'mapped':
      logger.info({
        event: 'port_mapped',
        protocol: event.protocol,
        external: formatAddress(event.external),
        lifetimeS: event.lifetimeS,
      });
      return;
    case 'renewed': {
      const fields = {
        event: 'port_mapping_renewed',
        protocol: event.protocol,
        external: formatAddress(event.external),
        lifetimeS: event.lifetimeS,
        hasGatewayRestarted: event.hasGatewayRestarted,
      };
      if (event.hasGatewayRestarted) logger.info(fields);
      else logger.debug(fields);
      return;
    }
    case 'changed':
      logger.info({
        event: 'port_mapping_changed',
        protocol: event.protocol,
        external: formatAddress(event.external),
        previous: formatAddress(event.previous),
        lifetimeS: event.lifetimeS,
      });
      return;
    case 'renewFailed':
      logger.warn({
        event: 'port_mapping_renew_failed',
        protocol: event.protocol,
        tried: describeAttempt(event.attempt),
        retryInS: Math.round(event.retryInMs / 1000),
      });
      return;
    case 'lost':
      logger.warn({
        event: 'port_mapping_lost',
        protocol: event.protocol,
        external: formatAddress(event.external),
      });
      return;
    case 'failed':
      logger.info({
        event: 'port_mapping_failed',
        tried: event.attempts.map(describeAttempt).join('; '),
        retryInS: Math.round(event.retryInMs / 1000),
      });
      return;
    case 'unmapped':
      logger.info({
        event: 'port_unmapped',
        protocol: event.protocol,
        external: formatAddress(event.external),
        isConfirmed: event.isConfirmed,
      });
      return;
  }
}

function describeAttempt(attempt: AttemptResult): string {
  return `${attempt.protocol}: ${attempt.reason}${attempt.detail === undefined ? '' : ` (${attempt.detail})`}`;
}

/** A loopback host (an address or `localhost`): a bootstrap list of only these is a local test network. */
export function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host === 'localhost';
}
