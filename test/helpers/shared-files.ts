/**
 * Paths into ../shared (vectors, load tools), which sits beside the repository both here and in CI.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Absolute path of a file under ../shared. */
export function sharedPath(relativePath: string): string {
  return resolve(repoRoot, '..', 'shared', relativePath);
}

/** Parses a JSON file under ../shared. */
export function readSharedJson<T = unknown>(relativePath: string): T {
  return JSON.parse(readFileSync(sharedPath(relativePath), 'utf8')) as T;
}
