/** Files: offers waiting for you first, then every transfer both ways, newest first. */
import type { FileTransferView } from '../api/api-types.ts';
import { ENDED_STATES, hasFilesApi, newestFirst, transfers, uploads } from '../state/files.ts';
import { Panel } from './panel.tsx';
import { TransferItem, UploadItem } from './transfer-item.tsx';

export function FilesView() {
  const all = newestFirst([...transfers.value.values()]);
  const offers = all.filter((t) => t.direction === 'incoming' && t.state === 'offered');
  const active = all.filter((t) => !ENDED_STATES.has(t.state) && !offers.includes(t));
  const ended = all.filter((t) => ENDED_STATES.has(t.state));
  return (
    <Panel titleId="files-title" title="Files">
      {!hasFilesApi.value ? (
        <p class="hint">This dhtchat daemon cannot send or receive files yet.</p>
      ) : (
        <>
          <p class="hint">
            To send a file, open a conversation and press + beside the message box. Files you accept are saved
            in your dhtchat downloads folder; Save hands a copy to this browser.
          </p>
          <TransferSection title="Offered to you" list={offers} empty="No file is waiting for you." />
          <h2>Moving now</h2>
          {uploads.value.size + active.length === 0 ? (
            <p class="hint">Nothing.</p>
          ) : (
            <ul class="transfer-list" aria-label="Moving now">
              {[...uploads.value].map(([key, upload]) => (
                <UploadItem key={key} upload={upload} />
              ))}
              {active.map((t) => (
                <TransferItem key={t.id} transfer={t} />
              ))}
            </ul>
          )}
          <TransferSection title="Done" list={ended} empty="No finished transfer yet." />
        </>
      )}
    </Panel>
  );
}

function TransferSection({
  title,
  list,
  empty,
}: {
  title: string;
  list: readonly FileTransferView[];
  empty: string;
}) {
  return (
    <>
      <h2>{title}</h2>
      {list.length === 0 ? (
        <p class="hint">{empty}</p>
      ) : (
        <ul class="transfer-list" aria-label={title}>
          {list.map((t) => (
            <TransferItem key={t.id} transfer={t} />
          ))}
        </ul>
      )}
    </>
  );
}
