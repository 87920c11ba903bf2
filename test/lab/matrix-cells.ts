/**
 * The NAT matrix: every pair of site kinds (Alice behind one, Bob behind the other) plus both users behind one
 * NAT (hairpin on and off), each with the path issue 11 expects once its features exist, and — where today's
 * code cannot get there yet — the reason, which nat-matrix.test.ts turns into a node:test `todo`. This table is
 * what drives the later work: a feature is done when its cells lose their todo.
 *
 * Paths: `direct` (a UDP session between the two: punched, mapped, LAN or to a public side), `relayed` (through a
 * volunteer `dhtchat relay`, issue 11 §4), `dht` (no session: messages through the offline mailbox).
 *
 *   cell A×B:   Internet ──┬── site of kind A ── alice        same-nat:  Internet ── router ──┬── alice
 *                          └── site of kind B ── bob                                          └── bob
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
  /** Both sites have IPv6 too (no NAT there, a stateful firewall): the session should run over it. */
  readonly hasIpv6?: boolean;
  /** The paths that count as a pass once issue 11 is done (the first is the one expected). */
  readonly expectedPaths: readonly Path[];
  /** Why today's code cannot form the expected session (then a todo), or undefined. */
  readonly sessionTodo?: string;
  /** Why today's code cannot complete a friend request here (then a todo), or undefined. */
  readonly requestTodo?: string;
}

/** A NAT that lets a friend who knows our endpoint in: none, full cone, or one that maps ports on request. */
const OPEN_KINDS: ReadonlySet<PairKind> = new Set(['public', 'full-cone', 'upnp']);
/**
 * No cell is a todo any more (2026-12-08). Sessions: two port-keeping NATs punch through the records (issue 11
 * §2); a symmetric side meets a port-keeping one by the birthday technique, and anyone at the lab's volunteer relay
 * (§4); a upnp router maps our port (§3: port-restricted × upnp direct in 2 of 2 runs, 1.8 s). Requests: the
 * recipient's dial-back, its answer on the answer topic for two port-keeping NATs (request-answer.ts), and a
 * meeting at the relay where a randomising NAT is on the way (request-relays.ts: port-restricted × symmetric,
 * symmetric × symmetric, × cgnat, × upnp completed in 10-14 s). The functions stay: a new kind or expectation
 * that today's code cannot meet gets its reason here, and nat-matrix.test.ts makes it a todo.
 */
function sessionTodo(_alice: SiteKind, _bob: SiteKind): string | undefined {
  return undefined;
}

function requestTodo(_alice: SiteKind, _bob: SiteKind): string | undefined {
  return undefined;
}

function pairCell(alice: PairKind, bob: PairKind): MatrixCell {
  const kinds = [alice, bob];
  const isBothSymmetric = alice === 'symmetric' && bob === 'symmetric';
  // A symmetric side can only be reached directly by an open side; against a port-keeping NAT the birthday
  // technique (issue 11 §2) may still make it direct.
  const expectedPaths: readonly Path[] =
    kinds.some((k) => OPEN_KINDS.has(k)) || !kinds.includes('symmetric')
      ? ['direct']
      : isBothSymmetric
        ? ['relayed']
        : ['relayed', 'direct'];
  const session = sessionTodo(alice, bob);
  const request = requestTodo(alice, bob);
  return {
    id: `${alice}×${bob}`,
    alice,
    bob,
    expectedPaths,
    ...(session === undefined ? {} : { sessionTodo: session }),
    ...(request === undefined ? {} : { requestTodo: request }),
  };
}

export const MATRIX: readonly MatrixCell[] = [
  ...SITE_KINDS.flatMap((alice, i) => SITE_KINDS.slice(i).map((bob) => pairCell(alice, bob))),
  // Both behind one router: LAN endpoints in the records make the session direct, hairpin or not; a request
  // meets through LAN discovery (BEP 14 announces) where the router does not hairpin.
  { id: 'same-nat', alice: 'same-nat', bob: 'same-nat', hasHairpin: false, expectedPaths: ['direct'] },
  { id: 'same-nat+hairpin', alice: 'same-nat', bob: 'same-nat', hasHairpin: true, expectedPaths: ['direct'] },
  // Two randomising IPv4 NATs, but IPv6 on both sides (issue 11 §6): punched directly over IPv6, no relay.
  {
    ...pairCell('symmetric', 'symmetric'),
    id: 'symmetric×symmetric+ipv6',
    hasIpv6: true,
    expectedPaths: ['direct'],
  },
];

/**
 * npm test's slice: each kind against a port-keeping NAT, symmetric × symmetric (also with IPv6 on both sides),
 * and one same-NAT pair.
 */
export const SLICE_IDS: readonly string[] = [
  ...SITE_KINDS.map((kind) =>
    kind === 'port-restricted' ? 'port-restricted×port-restricted' : cellIdWithPr(kind),
  ),
  'symmetric×symmetric',
  'symmetric×symmetric+ipv6',
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
