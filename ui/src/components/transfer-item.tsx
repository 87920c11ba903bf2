/**
 * One file transfer: its name (the sender's, made safe by the daemon; shown as text), who, size, state in
 * words, a progress bar while bytes move, and what can be done: accept or decline an offer, cancel a running
 * transfer, save a received file (the daemon sends it as an attachment: the browser saves it, never opens it).
 */
import { useState } from 'preact/hooks';
import type { FileTransferView } from '../api/api-types.ts';
import { formatBytes, percentOf } from '../lib/format-bytes.ts';
import { announce } from '../state/announcer.ts';
import { nameOf } from '../state/contacts.ts';
import { acceptFile, cancelFile, contentUrl, ENDED_STATES, type Upload } from '../state/files.ts';

const REASONS: Readonly<Record<string, string>> = {
  'too-large': 'over their size limit',
  'bad-pieces': 'the data arrived damaged too often',
  unavailable: 'the sender’s file changed',
  missing: 'the file was moved: send it again from where it is now',
  them: 'by them',
  you: 'by you',
};

export function stateText(t: FileTransferView): string {
  const who = nameOf(t.with);
  const reason = t.reason === null ? '' : ` (${REASONS[t.reason] ?? t.reason})`;
  switch (t.state) {
    case 'offered':
      return t.direction === 'incoming' ? 'Offered to you' : `Waiting for ${who} to accept`;
    case 'accepted':
      return `Waiting for ${who} to be online${reason}`;
    case 'transferring': {
      const rate = t.bytesPerSec > 0 ? ` · ${formatBytes(t.bytesPerSec)}/s` : '';
      return `${percentOf(t.bytesDone, t.size)}%${rate}`;
    }
    case 'complete':
      return t.direction === 'incoming' ? 'Received' : 'Sent';
    case 'canceled':
      return `Canceled${reason}`;
    case 'declined':
      return `Declined${reason}`;
    case 'failed':
      return `Failed${reason}`;
  }
}

export function TransferItem({ transfer: t }: { transfer: FileTransferView }) {
  const [error, setError] = useState('');
  const isIncoming = t.direction === 'incoming';
  const isMoving = t.state === 'transferring' || t.state === 'accepted';
  const act = (what: () => Promise<void>, done: string): void => {
    setError('');
    what().then(
      () => announce(done),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };
  return (
    <li class="transfer-item" data-state={t.state} data-direction={t.direction}>
      <p class="transfer-name">
        <span aria-hidden="true">{isIncoming ? '↓ ' : '↑ '}</span>
        <bdi>{t.name}</bdi>
      </p>
      <p class="transfer-meta">
        {isIncoming ? 'From ' : 'To '}
        <bdi>{nameOf(t.with)}</bdi> · {formatBytes(t.size)}
      </p>
      {isMoving && (
        <progress max={Math.max(1, t.size)} value={t.bytesDone} aria-label={`${t.name}: progress`} />
      )}
      <p class="transfer-state" aria-live={isMoving ? 'off' : 'polite'}>
        {stateText(t)}
      </p>
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="button-row">
        {isIncoming && t.state === 'offered' && (
          <>
            <button
              type="button"
              class="primary"
              onClick={() => act(() => acceptFile(t.id), `accepted ${t.name}`)}
            >
              Accept
            </button>
            <button type="button" onClick={() => act(() => cancelFile(t.id), `declined ${t.name}`)}>
              Decline
            </button>
          </>
        )}
        {!ENDED_STATES.has(t.state) && !(isIncoming && t.state === 'offered') && (
          <button type="button" onClick={() => act(() => cancelFile(t.id), `canceled ${t.name}`)}>
            Cancel
          </button>
        )}
        {isIncoming && t.state === 'complete' && (
          <a class="button primary" href={contentUrl(t.id)} download={t.name}>
            Save <span class="visually-hidden">{t.name}</span>
          </a>
        )}
      </div>
    </li>
  );
}

export function UploadItem({ upload }: { upload: Upload }) {
  return (
    <li class="transfer-item" data-state="uploading">
      <p class="transfer-name">
        <span aria-hidden="true">↑ </span>
        <bdi>{upload.name}</bdi>
      </p>
      <p class="transfer-meta">
        To <bdi>{nameOf(upload.to)}</bdi> · {formatBytes(upload.size)}
      </p>
      <progress
        max={Math.max(1, upload.size)}
        value={upload.bytesSent}
        aria-label={`${upload.name}: upload`}
      />
      <p class="transfer-state">
        Handing to your dhtchat daemon: {percentOf(upload.bytesSent, upload.size)}%
      </p>
    </li>
  );
}
