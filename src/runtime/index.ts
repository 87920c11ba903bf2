export {
  COMPACT_V4_BYTES,
  COMPACT_V6_BYTES,
  hostFromBytes,
  portFromBytes,
  writeCompactAddress,
} from './address-bytes.ts';
export {
  type Clock,
  ManualClock,
  systemClock,
  type Timer,
  VIRTUAL_MONOTONIC_START_MS,
  VIRTUAL_WALL_START_MS,
} from './clock.ts';
export {
  addressKey,
  type DatagramTransport,
  formatAddress,
  normalizeHost,
  type PacketHandler,
  type UdpAddress,
} from './datagram.ts';
export { DhtchatError, messageOf, routineError } from './errors.ts';
export { jsonLinesLogger, type LogFields, type Logger, type LogLevel, nullLogger } from './logger.ts';
export { cryptoRandom, type Random, SeededRandom } from './random.ts';
export { BatchedUdpSocket } from './batched-udp-socket.ts';
export { atTurnEnd, type DeferToTurnEnd } from './turn-end.ts';
export { type UdpBindOptions, UdpTransport } from './udp-transport.ts';
