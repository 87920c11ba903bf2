/**
 * The net layer's public surface: one UDP port shared by KRPC and uTP; uTP (BEP 29); secure streams; port
 * mapping (PCP, NAT-PMP, UPnP IGD); relays (joining two streams that present one pair token).
 */
export { type DemuxCounters, DatagramDemux } from './demux.ts';
export { DEFAULT_UTP_CONFIG, type UtpConfig } from './utp/config.ts';
export {
  type ConnectionState,
  type ConnectionStats,
  type UtpEvent,
  UtpConnection,
} from './utp/connection.ts';
export {
  type AdmissionCounts,
  type AdmissionLimits,
  type ConnectionOrigin,
  DEFAULT_ADMISSION_LIMITS,
} from './utp/admission.ts';
export {
  type UtpEndpointOptions,
  type UtpEndpointStats,
  type UtpListenOptions,
  UtpEndpoint,
} from './utp/endpoint.ts';
export { UtpErrorCode } from './utp/errors.ts';
export { decodePacket, encodePacket, looksLikeUtp, PacketType, type UtpPacket } from './utp/header.ts';
export { UtpSocket } from './utp/socket.ts';
export { type UtpStreamOptions, UtpStream } from './utp/stream.ts';
export {
  type SecurePattern,
  type SecurePeer,
  SecureSession,
  type SecureSessionEvent,
  type SecureSessionOptions,
  SecureStream,
  type SecureStreamOptions,
} from './secure/index.ts';
export {
  type AttemptResult,
  type HttpRequest,
  type HttpRequester,
  type HttpResult,
  isNatInsideHost,
  isReachableExternalHost,
  type MapOutcome,
  MappingFailureReason,
  type MappingProtocol,
  MappingProtocolName,
  NatPmpClient,
  PcpClient,
  PortMapper,
  type PortMapperTiming,
  type PortMappingEvent,
  UdpExchange,
  UpnpClient,
} from './port-mapping/index.ts';
export {
  DEFAULT_RELAY_LIMITS,
  encodeRelayFrame,
  firstFrameService,
  joinRelay,
  RELAY_CLIENT_TIMING,
  RELAY_MAX_TOKENS,
  RELAY_TOKEN_BYTES,
  RelayErrorCode,
  type RelayJoin,
  type RelayJoinAttempt,
  type RelayLimits,
  type RelayRole,
  RelayServer,
  type RelayServerOptions,
  type RelayStats,
} from './relay/index.ts';
