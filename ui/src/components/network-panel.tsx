/**
 * Where this daemon stands in the network (GET /v1/network, every 5 s while shown): DHT nodes known, the
 * address the world sees, what can be told of the NAT, and how each friend is reached right now.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api/api-client.ts';
import type { FriendPath, NatBehaviour, NetworkView } from '../api/api-types.ts';
import { contactOf } from '../state/contacts.ts';
import { Panel } from './panel.tsx';

const REFRESH_MS = 5000;

const NAT_WORDS: Record<NatBehaviour, string> = {
  none: 'none: this machine has the address the world sees',
  'port-kept': 'behind a NAT that keeps your port (friends can usually reach you directly)',
  'port-changed':
    'behind a NAT that changes your port (direct connections may fail; messages then go through the DHT)',
  unknown: 'not known yet',
};

const PATH_WORDS: Record<FriendPath, string> = {
  direct: 'direct',
  punched: 'hole-punched',
  mapped: 'through a port your router opened (UPnP / NAT-PMP / PCP)',
  relayed: 'through a relay (it sees only encrypted bytes)',
  dht: 'through the DHT (no connection now)',
};

export function NetworkPanel() {
  const [view, setView] = useState<NetworkView | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    let isShown = true;
    const load = (): void => {
      apiGet<NetworkView>('/v1/network').then(
        (next) => {
          if (!isShown) return;
          setView(next);
          setError('');
        },
        (e: unknown) => isShown && setError(e instanceof Error ? e.message : String(e)),
      );
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      isShown = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <Panel titleId="network-title" title="Network">
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {view === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <h2>The DHT</h2>
          <dl class="facts">
            <dt>Nodes known</dt>
            <dd data-testid="dht-nodes">
              {view.dht.nodes} ({view.dht.nodesV4} IPv4, {view.dht.nodesV6} IPv6)
            </dd>
            <dt>Your address as the DHT sees it</dt>
            <dd>{view.dht.externalAddress ?? 'not known yet'}</dd>
            <dt>Your UDP port</dt>
            <dd>{view.dht.udpPort}</dd>
          </dl>
          <h2>NAT</h2>
          <dl class="facts">
            <dt>NAT</dt>
            <dd>{NAT_WORDS[view.nat.behaviour]}</dd>
            <dt>Seen by your introducers as</dt>
            <dd>{view.nat.observedEndpoint ?? 'not known yet'}</dd>
            <dt>Introducers (they pass on friends' hole-punch requests)</dt>
            <dd>{view.nat.introducers.length === 0 ? 'none yet' : view.nat.introducers.join(', ')}</dd>
          </dl>
          <h2>Friends</h2>
          {view.friends.length === 0 ? (
            <p class="hint">No friends yet.</p>
          ) : (
            <table class="friend-paths">
              <caption class="visually-hidden">How each friend is reached</caption>
              <thead>
                <tr>
                  <th scope="col">Friend</th>
                  <th scope="col">Reached</th>
                  <th scope="col">Address</th>
                </tr>
              </thead>
              <tbody>
                {view.friends.map((f) => (
                  <FriendRow key={f.code} friend={f} />
                ))}
              </tbody>
            </table>
          )}
          {view.strangers !== undefined && (
            <>
              <h2>Strangers</h2>
              <p data-testid="strangers">
                {view.strangers.active} of at most {view.strangers.limit} sessions with people who are not
                your friends (handshakes, friend requests) are open.
              </p>
            </>
          )}
        </>
      )}
    </Panel>
  );
}

/** A friend's row: the path from the live `path` events when the daemon sent one since the last poll. */
function FriendRow({ friend: f }: { friend: NetworkView['friends'][number] }) {
  const live = contactOf(f.code)?.path;
  const path: FriendPath = live === undefined || live === null ? f.path : live;
  return (
    <tr key={f.code}>
      <th scope="row">
        <bdi>{f.name}</bdi>
      </th>
      <td data-path={path}>
        {PATH_WORDS[path]}
        {f.isInitiator === null ? '' : f.isInitiator ? ' (you dialled)' : ' (they dialled)'}
      </td>
      <td>{f.remote ?? '—'}</td>
    </tr>
  );
}
