/** Users with a disk of their own (MemoryFileSystem) on the chat harness, and file contents from a seed. */
import type { FileTransferView } from '../../../src/chat/files/transfer-view.ts';
import type { ChatSim, ChatUser } from '../session/chat-harness.ts';
import { MemoryFileSystem } from './memory-file-system.ts';

/** size bytes of xorshift noise from seed (incompressible, different per seed). */
export function fileBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, Math.min(i, size - 4));
  }
  return out;
}

export interface FileUser {
  user: ChatUser;
  fs: MemoryFileSystem;
  events: FileTransferView[];
}

/** A chat user whose files go to /<label>/downloads on its own disk; its file events collected. */
export function fileUser(
  sim: ChatSim,
  label: string,
  seedByte: number,
  fs = new MemoryFileSystem(),
  maxBytes?: number,
): FileUser {
  const files = {
    downloadsDir: `/${label}/downloads`,
    fileSystem: fs,
    download: { checkpointBytes: 256 * 1024 },
    ...(maxBytes === undefined ? {} : { maxBytes }),
  };
  const user = sim.user(label, seedByte, { files });
  const events: FileTransferView[] = [];
  user.node.on('file', (e) => events.push(e));
  return { user, fs, events };
}

/** The transfer's state as the user's node lists it now. */
export function lastState(u: FileUser, id: string): string | undefined {
  return u.user.node.files().find((t) => t.id === id)?.state;
}

/** Restarts a user's node (same identity and store) on the given disk, events collected again. */
export async function restartWith(sim: ChatSim, u: FileUser, fs: MemoryFileSystem): Promise<void> {
  u.fs = fs;
  const label = u.user.label;
  await sim.restart(u.user, {
    files: { downloadsDir: `/${label}/downloads`, fileSystem: fs, download: { checkpointBytes: 256 * 1024 } },
  });
  u.user.node.on('file', (e) => u.events.push(e));
  await sim.startUser(u.user);
}

export function bytesDone(u: FileUser, id: string): number {
  return u.user.node.files().find((t) => t.id === id)?.bytesDone ?? 0;
}
