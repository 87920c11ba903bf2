/**
 * The well-known Mainline DHT routers a node bootstraps from when the user names none. They appear here only, as
 * defaults: tests always pass their own --bootstrap (a loopback network), never these.
 */
import type { HostPort } from './parse-args.ts';

export const DEFAULT_BOOTSTRAP_ROUTERS: readonly HostPort[] = [
  { host: 'router.bittorrent.com', port: 6881 },
  { host: 'dht.transmissionbt.com', port: 6881 },
  { host: 'router.utorrent.com', port: 6881 },
  { host: 'dht.libtorrent.org', port: 25401 },
];
