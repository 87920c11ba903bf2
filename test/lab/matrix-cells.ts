/**
 * The NAT matrix: every pair of site kinds (Alice behind one, Bob behind the other) plus both users behind one
 * NAT (hairpin on and off), each with the path issue 11 expects once its features exist, and — where today's
 * code cannot get there yet — the reason, which nat-matrix.test.ts turns into a node:test `todo`. This table is
 * what drives the later work: a feature is done when its cells lose their todo.
 *
 * Paths: `direct` (a UDP session between the two: punched, mapped, LAN or to a public side), `relayed` (through a
 * volunteer `dhtchat relay`, issue 11 §4), `dht` (no session: messages through the offline mailbox).
 */
import type { Path } from './lab-chat.ts';
import { SITE_KINDS, type SiteKind } from './routers.ts';

export type PairKind = (typeof SITE_KINDS)[number];

export interface MatrixCell {
  /** `alice-kind×bob-kind`, or `same-nat` / `same-nat+hairpin`. */
  readonly id: string;
  readonly alice: SiteKind;
  readonly bob: SiteKind;
  /** same-nat only: both users behind one router, with or without hairpinning. */
  readonly hasHairpin?: boolean;
  /** The paths that count as a pass once issue 11 is done (the first is the one expected). */
  readonly expectedPaths: readonly Path[];
  /** Why today's code cannot form the expected session (then a todo), or undefined. */
  readonly sessionTodo?: string;
  /** Why today's code cannot complete a friend request here (then a todo), or undefined. */
  readonly requestTodo?: string;
}

/** A NAT that lets a friend who knows our endpoint in: none, full cone, or one that maps ports on request. */
const OPEN_KINDS: ReadonlySet<PairKind> = new Set(['public', 'full-cone', 'upnp']);
/** Endpoint-independent mapping that keeps the port: two of these punch (both send, both mappings open). */
const PUNCHABLE_KINDS: ReadonlySet<PairKind> = new Set(['port-restricted', 'cgnat']);

const NEEDS_PUNCH =
  'needs punching without dhtchat introducers (issue 11 §2): the libtorrent Internet has none';
const NEEDS_RELAY = 'needs a relay (issue 11 §4): symmetric NAT on one side, no punch possible';
const NEEDS_MAPPING = 'needs port mapping (issue 11 §3): today only an unmapped port-restricted router';
const NEEDS_REQUEST_PUNCH =
  "needs friend requests across NATs (issue 11 §5): the recipient's dial-back is a plain dial the requester's NAT drops";

function pairCell(alice: PairKind, bob: PairKind): MatrixCell {
  const id = `${alice}×${bob}`;
  const kinds = [alice, bob];
  const hasOpenSide = kinds.some((k) => OPEN_KINDS.has(k));
  const hasSymmetric = kinds.includes('symmetric');
  if (hasOpenSide) {
    // A public or full-cone side is reachable as it is; upnp becomes so once it maps its port.
    const isOpenToday = kinds.some((k) => k === 'public' || k === 'full-cone');
    return {
      id,
      alice,
      bob,
      expectedPaths: ['direct'],
      ...(isOpenToday ? {} : { sessionTodo: NEEDS_MAPPING }),
      ...(isOpenToday && !hasSymmetric ? {} : { requestTodo: NEEDS_REQUEST_PUNCH }),
    };
  }
  if (hasSymmetric) {
    // Symmetric against a port-keeping NAT may still punch with the birthday technique (issue 11 §2).
    const isBothSymmetric = alice === 'symmetric' && bob === 'symmetric';
    return {
      id,
      alice,
      bob,
      expectedPaths: isBothSymmetric ? ['relayed'] : ['relayed', 'direct'],
      sessionTodo: NEEDS_RELAY,
      requestTodo: NEEDS_REQUEST_PUNCH,
    };
  }
  if (PUNCHABLE_KINDS.has(alice) && PUNCHABLE_KINDS.has(bob)) {
    return {
      id,
      alice,
      bob,
      expectedPaths: ['direct'],
      sessionTodo: NEEDS_PUNCH,
      requestTodo: NEEDS_REQUEST_PUNCH,
    };
  }
  throw new Error(`no expectation for ${id}`);
}

export const MATRIX: readonly MatrixCell[] = [
  ...SITE_KINDS.flatMap((alice, i) => SITE_KINDS.slice(i).map((bob) => pairCell(alice, bob))),
  // Both behind one router: LAN endpoints in the records make it direct, hairpin or not.
  { id: 'same-nat', alice: 'same-nat', bob: 'same-nat', hasHairpin: false, expectedPaths: ['direct'] },
  { id: 'same-nat+hairpin', alice: 'same-nat', bob: 'same-nat', hasHairpin: true, expectedPaths: ['direct'] },
];

/** npm test's slice: each kind against a port-keeping NAT, symmetric × symmetric, and one same-NAT pair. */
export const SLICE_IDS: readonly string[] = [
  ...SITE_KINDS.map((kind) =>
    kind === 'port-restricted' ? 'port-restricted×port-restricted' : cellIdWithPr(kind),
  ),
  'symmetric×symmetric',
  'same-nat',
];

function cellIdWithPr(kind: PairKind): string {
  const a = SITE_KINDS.indexOf(kind);
  const b = SITE_KINDS.indexOf('port-restricted');
  return a < b ? `${kind}×port-restricted` : `port-restricted×${kind}`;
}

export function cellById(id: string): MatrixCell {
  const cell = MATRIX.find((c) => c.id === id);
  if (cell === undefined) throw new Error(`no cell ${id}; cells: ${MATRIX.map((c) => c.id).join(', ')}`);
  return cell;
}
