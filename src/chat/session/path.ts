/**
 * How we reach a friend, as the client shows it (issue 11): a session straight to them (`direct`; `punched` when
 * a hole punch opened it, `mapped` when it reached a port-mapped endpoint), a session through a relay
 * (`relayed`), or no session while they are around, so messages go through the DHT (`dht`). null: offline.
 *
 * Minimal version written for the relay work (src/chat/relay): sessions say `direct` or `relayed` so far; the
 * punch work refines `direct` into `punched` and `mapped`.
 */
export const ContactPath = {
  direct: 'direct',
  punched: 'punched',
  mapped: 'mapped',
  relayed: 'relayed',
  dht: 'dht',
} as const;
export type ContactPath = (typeof ContactPath)[keyof typeof ContactPath];

/** The path of a session (a session is never `dht`). */
export type SessionPath = Exclude<ContactPath, 'dht'>;
