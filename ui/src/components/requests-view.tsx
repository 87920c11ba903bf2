/**
 * Friend requests from others: the name they suggest and their note (both chosen by a stranger, so shown only
 * as isolated text), with accept, decline and block.
 */
import { useState } from 'preact/hooks';
import type { RequestView } from '../api/api-types.ts';
import { clockTime, dayLabel } from '../lib/format-time.ts';
import { announce } from '../state/announcer.ts';
import { acceptRequest, blockContact, declineRequest, requests } from '../state/contacts.ts';
import { openChat } from '../state/navigation.ts';
import { Panel } from './panel.tsx';

export function RequestsView() {
  const list = requests.value;
  return (
    <Panel titleId="requests-title" title="Friend requests">
      {list.length === 0 ? (
        <p class="hint">No requests waiting.</p>
      ) : (
        <ul class="request-list">
          {list.map((r) => (
            <RequestItem key={r.code} request={r} />
          ))}
        </ul>
      )}
    </Panel>
  );
}

function RequestItem({ request }: { request: RequestView }) {
  const [error, setError] = useState('');
  const act = async (what: 'accept' | 'decline' | 'block'): Promise<void> => {
    setError('');
    try {
      if (what === 'accept') {
        const contact = await acceptRequest(request.code);
        announce(`${contact.name} accepted`);
        openChat(contact.code);
      } else if (what === 'decline') {
        await declineRequest(request.code);
        announce('request declined');
      } else {
        await blockContact(request.code);
        announce('blocked');
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const label = request.name ?? 'Someone';
  return (
    <li class="request-item">
      <p class="request-from">
        <bdi class="request-name">{label}</bdi>
        <span class="hint"> · {`${dayLabel(request.receivedAt)} ${clockTime(request.receivedAt)}`}</span>
      </p>
      {request.message !== undefined && request.message.length > 0 && (
        <p class="request-note">
          <bdi>{request.message}</bdi>
        </p>
      )}
      <p class="code small">{request.code}</p>
      <fieldset class="button-row answer">
        <legend class="visually-hidden">Answer the request from {label}</legend>
        <button type="button" class="primary" onClick={() => void act('accept')}>
          Accept
        </button>
        <button type="button" onClick={() => void act('decline')}>
          Decline
        </button>
        <button type="button" class="danger" onClick={() => void act('block')}>
          Block
        </button>
      </fieldset>
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
