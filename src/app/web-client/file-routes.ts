/**
 * Files in the web client, beside the chat API's /v1/files calls:
 *
 *   POST /v1/files/upload?to=<code|name>&name=<file name>   (body: the file's bytes, application/octet-stream,
 *        with Content-Length)  -> FileTransferView: staged on the daemon's disk (upload-staging.ts), then offered
 *   POST /v1/files/upload?group=<id|name>&name=<file name>  the same, offered to a group we are a member of
 *   GET  /v1/files/<id>/content  -> the received file as an attachment: only an incoming transfer that is complete
 *
 * The friend (or the group) is checked before a byte is read, so a mistyped name costs no upload.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FileTransferView } from '../../chat/index.ts';
import { DhtchatError } from '../../runtime/index.ts';
import { streamDownload } from './download-response.ts';
import type { UploadStaging } from './upload-staging.ts';
import type { WebRoute } from './web-client.ts';

export const UPLOAD_ROUTE = 'POST /v1/files/upload';
export const CONTENT_ROUTE = /^GET \/v1\/files\/([0-9a-f]{32})\/content$/;

export const FileRouteErrorCode = {
  unknownFriend: 'APP_UPLOAD_UNKNOWN_FRIEND',
  unknownGroup: 'APP_UPLOAD_UNKNOWN_GROUP',
  notReady: 'APP_FILE_NOT_RECEIVED',
  missing: 'APP_FILE_MISSING',
} as const;

/** What the file routes need of the daemon. */
export interface WebFiles {
  list(): readonly FileTransferView[];
  send(to: string, path: string): Promise<FileTransferView>;
  /** Whether `to` (a code or a contact's name) names a friend files can be offered to. */
  isFriend(to: string): boolean;
  /** Offers a staged file to a group (absent: the daemon has no groups). */
  sendToGroup?(group: string, path: string): Promise<FileTransferView>;
  /** Whether `group` (an id or a name) names a group we are a member of. */
  isGroup?(group: string): boolean;
  readonly staging: UploadStaging;
}

export function uploadRoute(files: WebFiles): WebRoute {
  return async ({ query, req }) => {
    const to = query.get('to') ?? '';
    const group = query.get('group');
    const name = query.get('name') ?? '';
    if (name.length === 0) throw new DhtchatError('APP_API_BAD_REQUEST', '"name" (the file name) is missing');
    const send = group === null ? friendTarget(files, to) : groupTarget(files, group);
    const path = await files.staging.receive(req, name);
    try {
      return await send(path);
    } catch (error) {
      await files.staging.release(path);
      throw error;
    }
  };
}

function friendTarget(files: WebFiles, to: string): (path: string) => Promise<FileTransferView> {
  if (!files.isFriend(to)) {
    throw new DhtchatError(FileRouteErrorCode.unknownFriend, `no friend ${JSON.stringify(to)} to send to`);
  }
  return (path) => files.send(to, path);
}

function groupTarget(files: WebFiles, group: string): (path: string) => Promise<FileTransferView> {
  const { sendToGroup } = files;
  if (sendToGroup === undefined || files.isGroup?.(group) !== true) {
    throw new DhtchatError(FileRouteErrorCode.unknownGroup, `no group ${JSON.stringify(group)} to send to`);
  }
  return (path) => sendToGroup(group, path);
}

export function contentRoute(files: WebFiles): WebRoute {
  return async ({ pathname, res }) => {
    const id = /^\/v1\/files\/([0-9a-f]{32})\/content$/.exec(pathname)?.[1];
    const view = files.list().find((t) => t.id === id);
    if (
      view === undefined ||
      view.direction !== 'incoming' ||
      view.state !== 'complete' ||
      view.path === null
    ) {
      throw new DhtchatError(
        FileRouteErrorCode.notReady,
        'no received file with that id (only a complete one)',
      );
    }
    const handle = await open(view.path, 'r').catch((cause: unknown) => {
      throw new DhtchatError(FileRouteErrorCode.missing, `${view.path} is gone (moved or deleted)`, {
        cause,
      });
    });
    try {
      const info = await handle.stat();
      if (!info.isFile())
        throw new DhtchatError(FileRouteErrorCode.missing, `${view.path} is not a file now`);
      // The stream owns the handle from here (closes it at its end, or when the browser goes away).
      streamDownload(res, basename(view.path), info.size, handle.createReadStream());
    } catch (error) {
      await handle.close();
      throw error;
    }
  };
}
