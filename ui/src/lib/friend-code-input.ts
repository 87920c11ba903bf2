/**
 * What a user pastes to add a friend: a friend code (`dhtchat:` + 58 characters), possibly with spaces or line
 * breaks from a chat or an e-mail, or a friend link (`dhtchat:<code>?name=Alice`, what our share card offers).
 * This only finds the code and the suggested name; the daemon checks the code and words any error (wrong length,
 * a character outside the alphabet, a typo caught by the checksum) as the CLI does.
 */

export interface PastedFriend {
  readonly code: string;
  readonly suggestedName?: string;
}

export function parsePastedFriend(input: string): PastedFriend {
  const text = input.trim();
  const start = text.toLowerCase().indexOf('dhtchat:');
  const from = start < 0 ? text : text.slice(start);
  const query = from.indexOf('?');
  const codePart = query < 0 ? from : from.slice(0, query);
  // Line breaks and spaces a mail client or chat put inside the code are not part of it.
  const code = codePart.replace(/\s+/g, '');
  if (query < 0) return { code };
  const name = new URLSearchParams(from.slice(query + 1)).get('name')?.trim();
  return name === undefined || name.length === 0 ? { code } : { code, suggestedName: name.slice(0, 64) };
}

/** Our friend link: the code, with our name as the suggested one when we have a name. */
export function friendLink(code: string, name: string | null): string {
  return name === null || name.length === 0 ? code : `${code}?${new URLSearchParams({ name })}`;
}
