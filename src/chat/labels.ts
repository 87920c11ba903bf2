/**
 * Every domain-separation label and size of the chat layer's cryptography, once. Each label names what it keys
 * and carries a version: a v2 of any format gets new labels, so its keys and targets never collide with v1's.
 * Labels are ASCII without NUL (kdf.ts separates a label from its context with a 0x00 byte).
 */

export const LABELS = {
  /** HKDF salt of the pair secret K = HKDF(X25519(a, B), salt, …) (docs/PROTOCOL.md "Pair secret"). */
  pair: 'dhtchat/pair/v1',
  /** Seed of the per-(K, author, epoch) Ed25519 key that signs a rendezvous record (BEP 44 `k`). */
  recordSigning: 'dhtchat/record/signing/v1',
  /** BEP 44 salt of a rendezvous record: with the rotating key, the target is opaque and changes each epoch. */
  recordSalt: 'dhtchat/record/salt/v1',
  /** ChaCha20-Poly1305 key of a rendezvous record's value. */
  recordEncryption: 'dhtchat/record/encryption/v1',
  /** First bytes of a record's AEAD associated data (then target, epoch, author, reader). */
  recordAad: 'dhtchat/record/aad/v1',
  /** HKDF label of an offline message's key: K and X25519(ephemeral, prekey) together. */
  offlineKey: 'dhtchat/offline/key/v1',
  /** First bytes of an offline message's AEAD associated data. */
  offlineAad: 'dhtchat/offline/aad/v1',
  /** Key that seals a "punch to me" note forwarded by an introducer (per sender direction). */
  punchNote: 'dhtchat/punch/v1',
  /** SHA-256 prefix of the tag naming the target of a note a mutual friend forwards (punch-forwarding.ts). */
  punchForwardTag: 'dhtchat/punch-forward-tag/v1',
  /** A pair's relay token of an hour: what both friends present to a relay (docs/PROTOCOL.md "Relays"). */
  relayToken: 'dhtchat/relay-token/v1',
  /** Key that ranks relays for a pair (rendezvous hashing): both friends pick the same relay first. */
  relayRank: 'dhtchat/relay-rank/v1',
  /** A friend request's relay token of an hour: requester and recipient meet with it (request-relays.ts). */
  requestRelayToken: 'dhtchat/request-relay-token/v1',
  /** Key that ranks relays for a friend request's meeting (rendezvous hashing, as relayRank). */
  requestRelayRank: 'dhtchat/request-relay-rank/v1',
  /** Info-hash where volunteer relays announce themselves on a given day. */
  relayTopic: 'dhtchat/relay/v1',
  /** Info-hash where a friend request for a recipient is announced in a given hour. */
  requestTopic: 'dhtchat/request/v1',
  /** Info-hash where a recipient that dials a requester back says where it is (request-answer.ts). */
  requestAnswerTopic: 'dhtchat/request-answer/v1',
  /** Proof of work a friend request carries: bound to recipient, requester and hour (request-stamp.ts). */
  requestStamp: 'dhtchat/request-stamp/v1',
  /** Checksum domain of a friend code (the BCH checksum starts from this label). */
  friendCode: 'dhtchat/friend-code/v1',
  /** AEAD associated data prefix of a passphrase-protected identity file. */
  identityFile: 'dhtchat/identity-file/v1',
  /** SHA-256 prefix of the identity file's public-key checksum (readable without the passphrase). */
  identityPublicKeyCheck: 'dhtchat/identity-pk-check/v1',
  /** AEAD associated data prefix of a backup file (then the file's header). */
  backupFile: 'dhtchat/backup-file/v1',
  /** SHA-256 prefix of a file transfer's root: binds the size and piece size to the piece hash tree. */
  fileRoot: 'dhtchat/file-root/v1',
  /** A group's id: SHA-256 of this label, the creator's key and the create op's nonce (groups/group-ops.ts). */
  groupId: 'dhtchat/group/id/v1',
  /** Prefix of what a group entry's Ed25519 signature covers (groups/group-entry.ts). */
  groupEntry: 'dhtchat/group/entry/v1',
  /** HKDF label of the key that seals an epoch key to one member (groups/group-key-seal.ts). */
  groupKeySeal: 'dhtchat/group/key-seal/v1',
  /** First bytes of a sealed epoch key's AEAD associated data. */
  groupKeySealAad: 'dhtchat/group/key-seal-aad/v1',
  /** One step of an epoch key's daily ratchet (forward secrecy inside an epoch). */
  groupRatchet: 'dhtchat/group/ratchet/v1',
  /** HKDF label of one group message's key, from the epoch key at its step. */
  groupMessage: 'dhtchat/group/message/v1',
  /** The secret of an epoch's DHT mailbox (records and bundles), from the epoch key. */
  groupMailbox: 'dhtchat/group/mailbox/v1',
  /** Seed of the Ed25519 key that signs a member's group record (per epoch, author, day). */
  groupRecordSigning: 'dhtchat/group/record-signing/v1',
  /** BEP 44 salt of a member's group record. */
  groupRecordSalt: 'dhtchat/group/record-salt/v1',
  /** ChaCha20-Poly1305 key of a member's group record. */
  groupRecordEncryption: 'dhtchat/group/record-encryption/v1',
  /** First bytes of a group record's AEAD associated data. */
  groupRecordAad: 'dhtchat/group/record-aad/v1',
  /** Key of one bundle of group entries put in the DHT. */
  groupBundle: 'dhtchat/group/bundle/v1',
  /** First bytes of a group bundle's AEAD associated data. */
  groupBundleAad: 'dhtchat/group/bundle-aad/v1',
} as const;

export type Label = (typeof LABELS)[keyof typeof LABELS];

/** Sizes of the keys and hashes derived here. */
export const PAIR_SECRET_BYTES = 32;
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
/** BEP 44 salt of a record: 16 bytes keep gets short; unlinkability comes from the rotating key as well. */
export const RECORD_SALT_BYTES = 16;
/** SHA-1 targets of BEP 44 items and DHT info-hashes. */
export const TARGET_BYTES = 20;
/** Offline message ids and chat message ids (issue 5: a random 16-byte id). */
export const MESSAGE_ID_BYTES = 16;
