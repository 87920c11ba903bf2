/** `dht ping`, `dht find-node`, `dht get-peers`, `dht announce`: one-shot queries on a temporary node. */
import type { Command } from 'commander';
import { DhtchatError, formatAddress } from '../runtime/index.ts';
import { addJsonOption, addNetworkOptions, addTimeoutOption, type OneShotFlags } from './dht-options.ts';
import { printResult, refusals } from './dht-output.ts';
import { type HostPort, parseHostPort, parseId20, parsePort, resolveHostPorts } from './parse-args.ts';
import { oneShot, withTemporaryNode } from './temporary-node.ts';

export function registerDhtQueryCommands(dht: Command): void {
  const ping = dht
    .command('ping')
    .description('ping one DHT node and print its id')
    .argument('<host:port>', 'the node to ping', parseHostPort)
    // Accepted for symmetry with the other commands: ping always may reach the one address it is given.
    .option('--allow-private', 'accepted (ping may always reach the address it is given)');
  addTimeoutOption(ping);
  addJsonOption(ping).action(runPing);

  addNetworkOptions(
    dht
      .command('find-node')
      .description('find the nodes closest to an id')
      .argument('<id-hex>', '40 hex characters', parseId20),
  ).action(runFindNode);

  addNetworkOptions(
    dht
      .command('get-peers')
      .description('find peers announced for an info-hash')
      .argument('<infohash-hex>', '40 hex characters', parseId20),
  ).action(runGetPeers);

  addNetworkOptions(
    dht
      .command('announce')
      .description('announce a peer port for an info-hash')
      .argument('<infohash-hex>', '40 hex characters', parseId20)
      .requiredOption('--port <P>', 'the port peers should connect to', (text) => parsePort(text)),
  ).action(runAnnounce);
}

async function runPing(target: HostPort, flags: Pick<OneShotFlags, 'json' | 'timeout'>): Promise<void> {
  const [address] = await resolveHostPorts([target]);
  // Monotonic: a wall-clock step during the ping must not show as its round-trip time.
  const startedMs = performance.now();
  // The user names the address, so a loopback/private target is fine: the node joins nothing.
  const reply = await withTemporaryNode(
    { isStandalone: true, allowPrivate: true, timeoutMs: flags.timeout },
    (node) => node.ping(address!),
  );
  const rttMs = Math.round(performance.now() - startedMs);
  const id = reply.id.toString('hex');
  const from = formatAddress(reply.address);
  printResult(flags.json, { id, address: from, rttMs }, [`${from} answered in ${rttMs} ms, id ${id}`]);
}

async function runFindNode(target: Buffer, flags: OneShotFlags): Promise<void> {
  const nodes = await withTemporaryNode(oneShot(flags), (node) => node.findNode(target));
  const list = nodes.map((n) => ({ id: n.id.toString('hex'), address: formatAddress(n.address) }));
  printResult(
    flags.json,
    { nodes: list },
    list.length === 0 ? ['no nodes found'] : list.map((n) => `${n.id} ${n.address}`),
  );
}

async function runGetPeers(infoHash: Buffer, flags: OneShotFlags): Promise<void> {
  const result = await withTemporaryNode(oneShot(flags), (node) => node.getPeers(infoHash));
  const peers = result.peers.map(formatAddress);
  printResult(flags.json, { peers }, peers.length === 0 ? ['no peers found'] : peers);
}

async function runAnnounce(infoHash: Buffer, flags: OneShotFlags & { port: number }): Promise<void> {
  const result = await withTemporaryNode(oneShot(flags), (node) =>
    node.announcePeer(infoHash, { port: flags.port }),
  );
  const { stored } = result;
  if (stored === 0) {
    throw new DhtchatError('APP_NOT_STORED', `announce reached no node that accepted it${refusals(result)}`);
  }
  printResult(flags.json, { stored }, [`announced port ${flags.port} to ${stored} nodes`]);
}
