/**
 * Human-readable lines for the contact, profile and search commands (--json prints the API's objects as they
 * are). Every name and text here may have come from someone else — a friend's profile name, a requester's
 * suggested name we adopted, a message — so each goes through terminalSafe().
 */
import type { ContactView, FoundMessage, ProfileView } from './chat-api-types.ts';
import { terminalSafe } from './terminal-text.ts';

/**
 * `Bob (calls themself "Robert")  online (relayed)  dhtchat:…`: their own name only when it reads differently;
 * the path when it is not the plain one (punched, mapped, relayed, dht): `online` alone is a direct session.
 */
export function formatContactLine(c: ContactView): string {
  const seen =
    c.presence === 'online' ? '' : `  last seen ${c.lastSeen === null ? 'never' : iso(c.lastSeen)}`;
  const path = c.path === undefined || c.path === null || c.path === 'direct' ? '' : ` (${c.path})`;
  return `${contactLabel(c)}  ${c.presence}${path}${seen}  ${c.code}`;
}

/** The contact's name (or code), and the name they give themself when it is not the same as ours. */
export function contactLabel(c: ContactView): string {
  const name = terminalSafe(c.name);
  const isOwnDifferent = c.profileName !== null && c.profileName.toLowerCase() !== c.name.toLowerCase();
  return isOwnDifferent ? `${name} (calls themself "${terminalSafe(c.profileName ?? '')}")` : name;
}

/** `Bob (dhtchat:…)`, or the bare code for an unnamed contact. */
export function nameAndCode(c: ContactView): string {
  return c.name === c.code ? c.code : `${terminalSafe(c.name)} (${c.code})`;
}

export function formatBlocked(c: ContactView): string {
  return c.name === c.code ? c.code : `${terminalSafe(c.name)}  ${c.code}`;
}

export function formatProfile(p: ProfileView): string[] {
  const name =
    p.name === null ? 'no name set (dhtchat profile --name NAME)' : `name: ${terminalSafe(p.name)}`;
  return [name, `code: ${p.code}`];
}

/**
 * `2024-05-01T10:00:00.000Z  [Bob]  me: text`: the conversation, then who wrote it (`me`, or the contact's name
 * when known, else the code).
 */
export function formatFound(m: FoundMessage, ownCode: string, names: ReadonlyMap<string, string>): string {
  const conversation = terminalSafe(names.get(m.with) ?? m.with);
  const from = m.from === ownCode ? 'me' : terminalSafe(names.get(m.from) ?? m.from);
  return `${iso(m.ts)}  [${conversation}]  ${from}: ${terminalSafe(m.text)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
