/**
 * Notices when this machine's network changes (issue 11 §9): every INTERFACE_CHECK_MS it reads the interface
 * addresses (os.networkInterfaces) and calls back when the set of external ones differs from the last look —
 * a laptop on another Wi-Fi, a cable plugged, a VPN up or down. The chat layer then probes its sessions,
 * republishes its records and punches anew (ChatNode.networkChanged). Loopback and link-local are ignored.
 */
import { networkInterfaces } from 'node:os';

export const INTERFACE_CHECK_MS = 2000;

/** The external interface addresses, sorted (what a change is measured on). */
export function interfaceFingerprint(
  read: () => ReturnType<typeof networkInterfaces> = networkInterfaces,
): string {
  const hosts: string[] = [];
  for (const list of Object.values(read())) {
    for (const a of list ?? []) {
      if (a.internal || a.address.toLowerCase().startsWith('fe80:')) continue;
      hosts.push(a.address);
    }
  }
  return hosts.sort().join(',');
}

/** Calls onChange(before, after) whenever the fingerprint changes; returns the stop function. */
export function watchInterfaces(
  onChange: (before: string, after: string) => void,
  read: () => ReturnType<typeof networkInterfaces> = networkInterfaces,
  everyMs = INTERFACE_CHECK_MS,
): () => void {
  let last = interfaceFingerprint(read);
  const timer = setInterval(() => {
    const now = interfaceFingerprint(read);
    if (now === last) return;
    const before = last;
    last = now;
    onChange(before, now);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
