/**
 * A group as the target of `send` and `messages` (docs/CLI.md "Groups"): whether what was typed means a group
 * (its id, or a name no contact has), and the two calls on a group. Shared by message-commands.ts and
 * group-commands.ts.
 */
import { DhtchatError } from '../runtime/index.ts';
import { callDaemon } from './chat-api-client.ts';
import type { ContactView, GroupMessageView, GroupView } from './chat-api-types.ts';
import { printJson, printLines } from './chat-output.ts';
import { formatGroupMessage } from './group-output.ts';

interface JsonFlag {
  json?: boolean;
}

export interface GroupMessagesFlags extends JsonFlag {
  peek?: boolean;
  limit?: string | number;
  before?: string;
}

export async function sendToGroup(
  dataDir: string,
  groupTyped: string,
  text: string,
  isJson: boolean,
): Promise<void> {
  const sent = (await callDaemon(dataDir, 'POST', '/v1/groups/messages', {
    group: groupTyped,
    text,
  })) as GroupMessageView;
  if (isJson) printJson(sent);
  else process.stdout.write(`${sent.id} ${sent.state}\n`);
}

export async function showGroupMessages(
  dataDir: string,
  groupTyped: string,
  flags: GroupMessagesFlags,
): Promise<void> {
  const query = new URLSearchParams({ group: groupTyped });
  if (flags.limit !== undefined) query.set('limit', String(flags.limit));
  if (flags.before !== undefined) query.set('before', flags.before);
  const list = (await callDaemon(dataDir, 'GET', `/v1/groups/messages?${query}`)) as GroupMessageView[];
  if (flags.peek !== true && flags.before === undefined) {
    await callDaemon(dataDir, 'POST', '/v1/groups/read', { group: groupTyped });
  }
  if (flags.json) {
    printJson(list);
    return;
  }
  const { code } = (await callDaemon(dataDir, 'GET', '/v1/profile')) as { code: string };
  const contacts = (await callDaemon(dataDir, 'GET', '/v1/contacts')) as ContactView[];
  const names = new Map(contacts.filter((c) => c.name !== c.code).map((c) => [c.code, c.name]));
  printLines(
    list.map((m) => formatGroupMessage(m, code, names)),
    flags.before === undefined ? 'no messages yet' : 'no earlier messages',
  );
}

/**
 * Whether `send`/`messages <who>` means a group: a group id, or a group's name that no contact has (a name that
 * is both is refused: use the group's id or the contact's code). Undefined: a contact (the usual path).
 */
export async function resolveGroupTarget(dataDir: string, who: string): Promise<string | undefined> {
  if (who.toLowerCase().startsWith('dhtchat:')) return undefined;
  const groups = await listGroups(dataDir);
  const isId = /^[0-9a-f]{64}$/i.test(who) && groups.some((g) => g.id === who.toLowerCase());
  if (isId) return who.toLowerCase();
  const named = groups.filter((g) => g.name !== null && g.name.toLowerCase() === who.toLowerCase());
  if (named.length === 0) return undefined;
  const contacts = (await callDaemon(dataDir, 'GET', '/v1/contacts')) as ContactView[];
  if (contacts.some((c) => c.name.toLowerCase() === who.toLowerCase())) {
    throw new DhtchatError(
      'CHAT_NAME_AMBIGUOUS',
      `"${who}" is both a contact and a group: use the contact's code or the group's id (${named.map((g) => g.id).join(', ')})`,
    );
  }
  return who;
}

/** The daemon's groups; none when it serves no group API (a daemon built without groups, or a test double). */
async function listGroups(dataDir: string): Promise<GroupView[]> {
  try {
    return (await callDaemon(dataDir, 'GET', '/v1/groups')) as GroupView[];
  } catch (error) {
    if (error instanceof DhtchatError && error.code === 'APP_API_NOT_FOUND') return [];
    throw error;
  }
}
