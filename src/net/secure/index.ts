/** Secure streams: Noise (IK/XX, 25519/ChaChaPoly/BLAKE2b) over any Duplex, then encrypted frames. */
export {
  encodeFrame,
  FRAME_TYPES,
  FrameDecoder,
  MAX_FRAME_BYTES,
  MAX_FRAME_DATA_BYTES,
  openTransportFrame,
  SECURE_PATTERN_IDS,
  type SecurePattern,
  sealTransportFrame,
  type TransportFrame,
} from './frame-format.ts';
export {
  type SecurePeer,
  SecureSession,
  type SecureSessionEvent,
  type SecureSessionOptions,
  type SecureSessionState,
} from './secure-session.ts';
export { SecureStream, type SecureStreamOptions } from './secure-stream.ts';
