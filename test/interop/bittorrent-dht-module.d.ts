// npm bittorrent-dht ships no types; the interop test declares the few members it uses where it imports it.
declare module 'bittorrent-dht' {
  const DHT: unknown;
  export default DHT;
}
