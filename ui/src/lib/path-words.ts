/** How a friend is reached, in a few words (contact list, conversation header); the network panel says more. */
import type { FriendPath } from '../api/api-types.ts';

export const PATH_SHORT_WORDS: Readonly<Record<FriendPath, string>> = {
  direct: 'direct',
  punched: 'hole-punched',
  mapped: 'via your router’s mapping',
  relayed: 'relayed',
  dht: 'through the DHT',
};

/** The words for a contact's path, or '' when there is none to tell (offline, a pending request, an old daemon). */
export function pathText(path: FriendPath | null | undefined): string {
  return path === null || path === undefined ? '' : PATH_SHORT_WORDS[path];
}
