/**
 * File transfers, both ways: loaded from GET /v1/files, then kept current by `file` events (state changes and
 * progress, 4 a second while bytes move). Sending uploads the picked file to the daemon (POST /v1/files/upload),
 * which stages it and offers it; the upload's own progress is kept here until the daemon's transfer takes over.
 */
import { computed, signal } from '@preact/signals';
import { ApiError, apiGet, apiPost, isMissingRoute } from '../api/api-client.ts';
import type { FileTransferView } from '../api/api-types.ts';

/** By id, in the order first seen. */
export const transfers = signal<ReadonlyMap<string, FileTransferView>>(new Map());
/** False when the daemon has no file calls (an older version). */
export const hasFilesApi = signal(true);
/** False when the daemon cannot take an upload (an older version): the page says how to send from the CLI. */
export const canUpload = signal(true);

export interface Upload {
  readonly to: string;
  readonly name: string;
  readonly size: number;
  readonly bytesSent: number;
  readonly error: string;
}

/** Uploads running or failed, by a page-local key. */
export const uploads = signal<ReadonlyMap<number, Upload>>(new Map());
let nextUploadKey = 1;

export const ENDED_STATES: ReadonlySet<string> = new Set(['complete', 'canceled', 'declined', 'failed']);

/** Incoming offers waiting for the user. */
export const waitingOffers = computed(
  () =>
    [...transfers.value.values()].filter((t) => t.direction === 'incoming' && t.state === 'offered').length,
);

export function transfersWith(code: string): FileTransferView[] {
  return newestFirst([...transfers.value.values()].filter((t) => t.with === code));
}

export function newestFirst(list: FileTransferView[]): FileTransferView[] {
  return list.sort((a, b) => b.createdAt - a.createdAt);
}

export async function loadFiles(): Promise<void> {
  try {
    const list = await apiGet<FileTransferView[]>('/v1/files');
    transfers.value = new Map(list.map((t) => [t.id, t]));
  } catch (error) {
    if (isMissingRoute(error)) hasFilesApi.value = false;
    else throw error;
  }
}

export function applyTransfer(view: FileTransferView): void {
  const next = new Map(transfers.value);
  next.set(view.id, view);
  transfers.value = next;
}

export async function acceptFile(id: string): Promise<void> {
  applyTransfer(await apiPost<FileTransferView>('/v1/files/accept', { id }));
}

/** Cancels a transfer either way; an offer not accepted yet is declined. */
export async function cancelFile(id: string): Promise<void> {
  applyTransfer(await apiPost<FileTransferView>('/v1/files/cancel', { id }));
}

/** What to tell the user when an upload to `target` (a code or a group id) failed. */
export function uploadErrorText(error: unknown, target: string): string {
  if (!canUpload.value) {
    return `This dhtchat daemon cannot take a file from the browser. In a terminal: npx dhtchat send-file ${target} <file>`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The daemon's address for a received file (the browser saves it: Content-Disposition attachment). */
export function contentUrl(id: string): string {
  return `/v1/files/${id}/content`;
}

/**
 * Uploads `file` for `to` (a friend's code, or with `kind` 'group' a group's id); resolves with the offer, or
 * rejects with the daemon's error.
 */
export function sendFile(
  to: string,
  file: File,
  kind: 'friend' | 'group' = 'friend',
): Promise<FileTransferView> {
  const key = nextUploadKey++;
  const update = (fields: Partial<Upload>): void => {
    const next = new Map(uploads.value);
    const current = next.get(key) ?? { to, name: file.name, size: file.size, bytesSent: 0, error: '' };
    next.set(key, { ...current, ...fields });
    uploads.value = next;
  };
  const finish = (): void => {
    const next = new Map(uploads.value);
    next.delete(key);
    uploads.value = next;
  };
  update({});
  return new Promise((resolve, reject) => {
    // XMLHttpRequest, not fetch: only it reports an upload's progress.
    const xhr = new XMLHttpRequest();
    const query = new URLSearchParams(
      kind === 'group' ? { group: to, name: file.name } : { to, name: file.name },
    );
    xhr.open('POST', `/v1/files/upload?${query.toString()}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => update({ bytesSent: e.loaded });
    xhr.onload = () => {
      finish();
      const value: unknown = (() => {
        try {
          return JSON.parse(xhr.responseText);
        } catch {
          return undefined;
        }
      })();
      if (xhr.status === 200) {
        applyTransfer(value as FileTransferView);
        resolve(value as FileTransferView);
        return;
      }
      const error = (value as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (xhr.status === 404) canUpload.value = false;
      reject(
        new ApiError(
          xhr.status,
          error?.code ?? `HTTP_${xhr.status}`,
          error?.message ?? `the daemon answered ${xhr.status}`,
        ),
      );
    };
    xhr.onerror = () => {
      finish();
      reject(new ApiError(0, 'NO_DAEMON', 'the upload broke off (is the daemon running?)'));
    };
    xhr.send(file);
  });
}
