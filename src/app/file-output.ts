/**
 * File transfers as a person reads them: one line per transfer (`files`), one per `file` event (`events`), and
 * the progress bar of `send-file --wait` / `accept-file --wait`. A file's name is the sender's (made safe to
 * create by the chat layer, not safe to print): every name goes through terminalSafe, as friends' names do.
 */
import type { FileTransferView } from './chat-api-types.ts';
import type { NameOf } from './chat-output.ts';
import { terminalSafe } from './terminal-text.ts';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

function who(code: string, nameOf: NameOf): string {
  const name = nameOf(code);
  return terminalSafe(name === undefined || name === code ? code : name);
}

function percent(t: Pick<FileTransferView, 'bytesDone' | 'size'>): number {
  return t.size === 0 ? 100 : Math.floor((t.bytesDone * 100) / t.size);
}

/** A group's name by its id (undefined: not known, the id is shown). */
export type GroupNameOf = (groupId: string) => string | null | undefined;

/** `group club`, `Bob in club`: where a group's transfer comes from or goes to. */
function peerOf(t: FileTransferView, nameOf: NameOf, groupNameOf?: GroupNameOf): string {
  if (t.group === null || t.group === undefined) return who(t.with, nameOf);
  const name = groupNameOf?.(t.group);
  const group = `group ${name === null || name === undefined ? t.group.slice(0, 12) : terminalSafe(name)}`;
  return t.direction === 'outgoing' ? group : `${who(t.with, nameOf)} in ${group}`;
}

/** `3fa2c1d0  ← Bob  report.pdf  3.1 MiB  transferring 45%  2.0 MiB/s` (`← Bob in group club` for a group's). */
export function formatTransfer(t: FileTransferView, nameOf: NameOf, groupNameOf?: GroupNameOf): string {
  const arrow = t.direction === 'incoming' ? '←' : '→';
  const parts = [
    t.id.slice(0, 8),
    `${arrow} ${peerOf(t, nameOf, groupNameOf)}`,
    terminalSafe(t.name),
    formatBytes(t.size),
  ];
  switch (t.state) {
    case 'transferring':
      parts.push(`transferring ${percent(t)}%`, `${formatBytes(t.bytesPerSec)}/s`);
      break;
    case 'accepted':
      parts.push(
        t.bytesDone > 0
          ? `waiting for the other side (${percent(t)}%)`
          : 'accepted, waiting for the other side',
      );
      break;
    case 'offered':
      parts.push(
        t.direction === 'incoming'
          ? `offered (accept with: dhtchat accept-file ${t.id.slice(0, 8)})`
          : 'offered',
      );
      break;
    case 'complete':
      parts.push(t.path === null ? 'complete' : `complete: ${terminalSafe(t.path)}`);
      break;
    default:
      parts.push(t.reason === null ? t.state : `${t.state} (${terminalSafe(t.reason)})`);
  }
  return parts.join('  ');
}

/** A `file` event for `events`: state changes in words, progress as a percentage. */
export function formatFileEvent(e: Record<string, unknown>, nameOf: NameOf): string {
  const t = e as unknown as FileTransferView;
  const name = terminalSafe(String(t.name));
  const friend = peerOf(t, nameOf);
  const id = terminalSafe(String(t.id).slice(0, 8));
  const toFrom = t.direction === 'incoming' ? `from ${friend}` : `to ${friend}`;
  switch (t.state) {
    case 'offered':
      return t.direction === 'incoming'
        ? `${friend} offers ${name} (${formatBytes(Number(t.size))}): accept with dhtchat accept-file ${id}`
        : `offered ${name} to ${friend} (${id})`;
    case 'transferring':
      return `file ${name} ${toFrom}: ${percent(t)}% (${formatBytes(Number(t.bytesPerSec))}/s)`;
    case 'complete':
      return t.direction === 'incoming'
        ? `received ${name} from ${friend}${t.path === null ? '' : `: ${terminalSafe(String(t.path))}`}`
        : `${friend} received ${name}`;
    default:
      return `file ${name} ${toFrom}: ${terminalSafe(String(t.state))}${t.reason === null || t.reason === undefined ? '' : ` (${terminalSafe(String(t.reason))})`}`;
  }
}

/** `report.pdf  [#########-----------]  45%  2.0 MiB/s  1.4/3.1 MiB`, at most width columns. */
export function progressBar(t: FileTransferView, width: number): string {
  const pct = percent(t);
  const tail = `  ${String(pct).padStart(3)}%  ${formatBytes(t.bytesPerSec)}/s  ${formatBytes(t.bytesDone)}/${formatBytes(t.size)}`;
  const name = terminalSafe(t.name);
  const shortName = name.length > 24 ? `${name.slice(0, 23)}…` : name;
  const barWidth = Math.max(10, Math.min(40, width - shortName.length - tail.length - 6));
  const filled = Math.round((barWidth * pct) / 100);
  return `${shortName}  [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`;
}
