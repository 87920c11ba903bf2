/** Every fuzz target, one per decoder (docs/BENCHMARKS.md "Fuzzing" records a run). */
import type { FuzzTarget } from '../fuzz-target.ts';
import { apiJsonTarget } from './api-json.ts';
import { bencodeTarget } from './bencode.ts';
import { chatFramesTarget } from './chat-frames.ts';
import { fileFramesTarget } from './file-frames.ts';
import { friendCodeTarget } from './friend-code.ts';
import { groupEntriesTarget } from './group-entries.ts';
import { groupFramesTarget } from './group-frames.ts';
import { groupMailboxTarget } from './group-mailbox.ts';
import { krpcTarget } from './krpc.ts';
import { noiseHandshakeTarget } from './noise-handshake.ts';
import { offlineTarget } from './offline.ts';
import { lsdAnnounceTarget } from './lsd-announce.ts';
import { relayFramesTarget } from './relay-frames.ts';
import { rendezvousRecordTarget } from './rendezvous-record.ts';
import { secureFramesTarget } from './secure-frames.ts';
import { utpHeaderTarget } from './utp-header.ts';

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  bencodeTarget,
  krpcTarget,
  utpHeaderTarget,
  noiseHandshakeTarget,
  secureFramesTarget,
  chatFramesTarget,
  fileFramesTarget,
  rendezvousRecordTarget,
  offlineTarget,
  friendCodeTarget,
  apiJsonTarget,
  relayFramesTarget,
  lsdAnnounceTarget,
  groupEntriesTarget,
  groupFramesTarget,
  groupMailboxTarget,
];
