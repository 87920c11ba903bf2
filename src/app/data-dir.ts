/**
 * The data directory: where a long-running node keeps what must survive a restart (for now the DHT routing
 * table). Default: $XDG_DATA_HOME/dhtchat, else ~/.local/share/dhtchat. Files are written atomically (temp file
 * + rename) so a crash mid-write never leaves a torn routing table behind.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DhtchatError } from '../runtime/index.ts';

/** The routing table as DhtNode.exportState() bytes (bencoded; see src/dht/routing-table-state.ts). */
export const ROUTING_TABLE_FILE = 'dht-routing-table.dat';

/** How often `dht node` saves its routing table while running (also saved on exit). */
export const ROUTING_TABLE_SAVE_INTERVAL_MS = 60_000;

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg?.startsWith('/') ? xdg : join(env['HOME'] ?? homedir(), '.local', 'share');
  return join(base, 'dhtchat');
}

export async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new DhtchatError('APP_DATA_DIR', `cannot create data directory ${dir}`, { cause });
  }
}

/** The saved file's bytes, or undefined when there is none yet. */
export async function readDataFile(dir: string, name: string): Promise<Buffer | undefined> {
  try {
    return await readFile(join(dir, name));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DhtchatError('APP_DATA_DIR', `cannot read ${join(dir, name)}`, { cause });
  }
}

export async function writeDataFileAtomic(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const path = join(dir, name);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, path);
  } catch (cause) {
    throw new DhtchatError('APP_DATA_DIR', `cannot write ${path}`, { cause });
  }
}
