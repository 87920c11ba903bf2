/**
 * Port mapping: ask the default gateway to forward a UDP port of ours, by PCP (RFC 6887), NAT-PMP (RFC 6886) or
 * UPnP IGD, keep the mapping renewed and delete it on close. See docs/ARCHITECTURE.md "Port mapping".
 */
export type { HttpRequest, HttpRequester, HttpResult } from './http-requester.ts';
export {
  type MapOutcome,
  MappingFailureReason,
  type MappingProtocol,
  MappingProtocolName,
  type MapRequest,
} from './mapping-protocol.ts';
export { isNatInsideHost, isReachableExternalHost } from './nat-address.ts';
export { NatPmpClient, type NatPmpClientOptions } from './natpmp-client.ts';
export { PcpClient, type PcpClientOptions } from './pcp-client.ts';
export {
  type AttemptResult,
  PORT_MAPPER_TIMING,
  PortMapper,
  type PortMapperOptions,
  type PortMapperTiming,
  type PortMappingEvent,
} from './port-mapper.ts';
export { UdpExchange } from './udp-exchange.ts';
export { UpnpClient, type UpnpClientOptions } from './upnp-client.ts';
