/**
 * The chat layer's public surface. So far: identity and its file, friend codes, pair secrets and their subkeys,
 * epochs, rendezvous records, offline sealing, friend-request topics. Everything else in src/chat/ is internal.
 */
export {
  DAY_EPOCH_MS,
  dayEpoch,
  dayEpochsToFetch,
  dayEpochsToPublish,
  dayEpochStartMs,
  EPOCH_SKEW_MS,
  HOUR_EPOCH_MS,
  hourEpoch,
  nextRecordSeq,
} from './epoch.ts';
export { BackupError, MAX_BACKUP_BYTES } from './backup-errors.ts';
export {
  BACKUP_FILE_VERSION,
  BACKUP_HEADER_BYTES,
  BACKUP_MAGIC,
  looksLikeBackup,
  openBackup,
  type SealBackupOptions,
  sealBackup,
} from './backup-file.ts';
export { type BackupPayload, decodeBackupPayload, encodeBackupPayload } from './backup-payload.ts';
export { type BackupStore, decodeBackupStore, encodeBackupStore } from './backup-store-codec.ts';
export {
  decodeFriendCode,
  encodeFriendCode,
  FRIEND_CODE_BODY_CHARS,
  FRIEND_CODE_PREFIX,
  FriendCodeError,
  type FriendCodeErrorCode,
  type FriendCodeResult,
  parseFriendCode,
} from './friend-code.ts';
export {
  DEFAULT_SCRYPT,
  decodeIdentityFile,
  type EncodeIdentityOptions,
  encodeIdentityFile,
  generateIdentity,
  type Identity,
  IdentityError,
  type IdentityFileInfo,
  identityFromSeed,
  inspectIdentityFile,
  publicKeyCheck,
  type ScryptParams,
} from './identity.ts';
export {
  IDENTITY_FILE_NAME,
  IdentityFileError,
  type IdentityFileBytes,
  readIdentityFile,
  type WriteIdentityOptions,
  writeIdentityFile,
} from './identity-file.ts';
export { LABELS, MESSAGE_ID_BYTES, TARGET_BYTES } from './labels.ts';
export { OFFLINE_MAX_PARTS, OFFLINE_PART_V_BYTES, type OfflinePart, parseHead } from './offline-parts.ts';
export {
  OFFLINE_MAX_MESSAGES,
  OFFLINE_MAX_PLAINTEXT_BYTES,
  type OfflineMessage,
  type OfflineOpenResult,
  type OfflineParties,
  openOffline,
  type SealedOffline,
  sealOffline,
} from './offline-seal.ts';
export {
  derivePairSecret,
  PairSecretError,
  type PairSecretErrorCode,
  type PairSecretResult,
  punchNoteKey,
} from './pair-secret.ts';
export {
  EndpointKind,
  RECORD_LIMITS,
  type RecordEndpoint,
  type RendezvousRecord,
} from './record-body.ts';
export {
  type MutableItemLike,
  openRecord,
  RECORD_V_BYTES,
  type RecordKey,
  RecordOpenError,
  type RecordOpenErrorCode,
  type RecordOpenResult,
  type RecordParties,
  recordKeyFor,
  type SealedRecord,
  sealRecord,
  signRecord,
} from './rendezvous-record.ts';
export { requestTopic } from './request-topic.ts';
export {
  CHAT_DATABASE_FILE,
  ChatStore,
  type ChatStoreOptions,
  DEFAULT_LOCK_WAIT_MS,
} from './store/chat-store.ts';
export {
  type Contact,
  type ContactEndpoint,
  ContactState,
  MAX_ENDPOINTS_PER_CONTACT,
  Presence,
} from './store/contacts.ts';
export {
  type FriendRequest,
  type IncomingRequestResult,
  type RateDecision,
  RequestDirection,
  RequestState,
} from './store/friend-requests.ts';
export { BACKUP_TABLES, type BackupRow } from './store/backup-rows.ts';
export { KvKey } from './store/kv.ts';
export {
  canAdvance,
  checkMessageText,
  isMessageState,
  MAX_MESSAGE_TEXT_BYTES,
  MESSAGE_STATES,
  MessageState,
} from './store/message-state.ts';
export {
  type IncomingMessage,
  MessageDirection,
  type MessageListing,
  MessageVia,
  type ReceiveResult,
  type StoredMessage,
} from './store/messages.ts';
export type { BundlePart, PendingBundle } from './store/offline-bundles.ts';
export type { Prekey } from './store/prekeys.ts';
export { RECORD_EPOCHS_KEPT } from './store/record-seqs.ts';
export { ChatStoreErrorCode } from './store/store-errors.ts';
export { decodeOfflineBody, encodeOfflineBody } from './offline-body.ts';
export { OFFLINE_REPUT_MS, OfflineMailbox, type OfflineMailboxOptions } from './offline-mailbox.ts';
export {
  type RecordInfo,
  type RecordListener,
  RENDEZVOUS_TIMING,
  RendezvousService,
  type RendezvousServiceOptions,
} from './rendezvous-service.ts';
export { REQUEST_BEACON_TIMING, RequestBeacon, type RequestBeaconOptions } from './request-beacon.ts';
export {
  ChatNode,
  ChatNodeErrorCode,
  type ChatNodeEvents,
  type ChatNodeOptions,
  type ContactView,
  type FileTransferView,
  type FoundMessage,
  MAX_MESSAGES_PER_CALL,
  MAX_SEARCH_QUERY_CHARS,
  type MessageView,
  type ProfileView,
  type RequestView,
  type TypingResult,
} from './chat-node.ts';
export {
  type ChatHost,
  type ChatHostDhtOptions,
  type ChatHostOptions,
  createChatHost,
  JOIN_WAIT_MS,
  ROUTING_TABLE_SAVE_INTERVAL_MS,
} from './chat-host.ts';
export { checkName, isValidName, MAX_NAME_CHARS, NameErrorCode, nameProblem } from './contact-name.ts';
export { DEFAULT_MAX_FILE_BYTES } from './files/file-transfers.ts';
export { safeFileName } from './files/safe-name.ts';
export { NAME_KEY_VERSION, type NameKeys, nameKeys } from './name-key.ts';
export { OFFLINE_AFTER_MS, OFFLINE_WHEN_AWAY_MS, OfflineScheduler } from './offline-scheduler.ts';
export {
  type ChatFrame,
  ChatFrameReader,
  decodeChatFrame,
  encodeChatFrame,
  FrameErrorCode,
  MAX_CHAT_FRAME_BYTES,
} from './session/frames.ts';
export { DEFAULT_SESSION_TIMING, SessionCloseCode, type SessionTiming } from './session/session.ts';
export { PunchTransport } from './punch-transport.ts';
export type { BirthdaySeams } from './session/dht-services.ts';
export { ContactPath, type SessionPath } from './session/path.ts';
export type { RelayAnnouncement } from './relay/relay-announcer.ts';
export { RelayHost, type RelayHostOptions } from './relay/relay-host.ts';
export { relayTopic, relayTopicDays } from './relay/relay-topic.ts';
export type { DeliveryCounts, GroupMessageState } from './groups/group-delivery.ts';
export { MAX_GROUP_MEMBERS } from './groups/group-key-seal.ts';
export { GroupErrorCode } from './groups/group-replica.ts';
export type { GroupService, GroupServiceEvents, MemberChange } from './groups/group-service.ts';
export type { GroupInviteView, GroupMemberView, GroupMessageView, GroupView } from './groups/group-views.ts';
