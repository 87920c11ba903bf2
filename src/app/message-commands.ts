/**
 * What you say (docs/CLI.md, "## Chat"): send (the text as an argument, or `-` for standard input), messages
 * (paging back with --limit/--before), search — clients of the running daemon's local API.
 *
 * A message is checked here before the daemon is asked (the daemon checks again: bots use the API directly):
 * empty or white space only, or over 16 KiB of UTF-8, is a usage error (exit 2), so that a text over the API's
 * body limit gets the same answer as one just over the message limit.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { DhtchatError } from '../runtime/index.ts';
import { callDaemon } from './chat-api-client.ts';
import type { ContactView, FoundMessage, MessageView, SentMessage } from './chat-api-types.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { formatMessage, printJson, printLines } from './chat-output.ts';
import { formatFound } from './contact-output.ts';
import { resolveGroupTarget, sendToGroup, showGroupMessages } from './group-target.ts';

/** The chat layer's MAX_MESSAGE_TEXT_BYTES (a test keeps the two equal; the chat layer is not loaded here). */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** The most messages one call returns (the chat layer's MAX_MESSAGES_PER_CALL), and the default page. */
export const MAX_MESSAGES_PER_CALL = 1000;
const DEFAULT_SEARCH_LIMIT = 50;
const BLANK = /^[\s\p{Default_Ignorable_Code_Point}]*$/u;

interface JsonFlag {
  json?: boolean;
}

export function registerMessageCommands(program: Command): void {
  program
    .command('send')
    .description('send a message (kept and retried until delivered)')
    .argument('<name|code>', 'the contact, or a group (name or id)')
    .argument('<text>', 'the message (UTF-8, at most 16 KiB); - reads it from standard input')
    .option('--json', 'print {"id","state"}')
    .action(async (to: string, given: string, flags: JsonFlag, cmd: Command) => {
      const text = checkMessage(given === '-' ? await readStdinText(process.stdin) : given);
      const group = await resolveGroupTarget(dataDirOf(cmd), to);
      if (group !== undefined) return sendToGroup(dataDirOf(cmd), group, text, flags.json === true);
      const sent = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/messages', { to, text })) as SentMessage;
      if (flags.json) printJson(sent);
      else process.stdout.write(`${sent.id} ${sent.state}\n`);
    });

  program
    .command('messages')
    .description('show the conversation with a contact or a group (and mark its messages read)')
    .argument('<name|code>', 'the contact, or a group (name or id)')
    .option('--json', 'print [{"id","from","text","ts","state"}]')
    .option('--peek', 'do not mark the messages read')
    .option(
      '--limit <N>',
      `how many of the newest messages (1-${MAX_MESSAGES_PER_CALL}, default all up to that)`,
      parseLimit,
    )
    .option(
      '--before <id|time>',
      'page back: only messages before this id, Unix ms or ISO time (not marked read)',
      parseBefore,
    )
    .action(async (who: string, flags: JsonFlag & MessagesFlags, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const group = await resolveGroupTarget(dataDir, who);
      if (group !== undefined) return showGroupMessages(dataDir, group, flags);
      const query = new URLSearchParams({ with: who });
      if (flags.limit !== undefined) query.set('limit', String(flags.limit));
      if (flags.before !== undefined) query.set('before', flags.before);
      const list = (await callDaemon(dataDir, 'GET', `/v1/messages?${query}`)) as MessageView[];
      // Paging back through old messages is not reading the new ones.
      if (flags.peek !== true && flags.before === undefined)
        await callDaemon(dataDir, 'POST', '/v1/read', { who });
      if (flags.json) {
        printJson(list);
        return;
      }
      const { code, names } = await whoIsWho(dataDir);
      printLines(
        list.map((m) => formatMessage(m, code, names)),
        flags.before === undefined ? 'no messages yet' : 'no earlier messages',
      );
    });

  program
    .command('search')
    .description('find messages containing a text (ignoring case), newest last')
    .argument('<text>', 'what to look for')
    .option('--with <name|code>', 'only the conversation with this contact')
    .option(
      '--limit <N>',
      `how many of the newest matches (1-${MAX_MESSAGES_PER_CALL}, default ${DEFAULT_SEARCH_LIMIT})`,
      parseLimit,
    )
    .option('--json', 'print [{"with","id","from","text","ts","state"}]')
    .action(async (text: string, flags: JsonFlag & { with?: string; limit?: number }, cmd: Command) => {
      if (BLANK.test(text)) throw new DhtchatError('CHAT_BAD_QUERY', 'the search text is empty');
      const dataDir = dataDirOf(cmd);
      const query = new URLSearchParams({ text });
      if (flags.with !== undefined) query.set('with', flags.with);
      query.set('limit', String(flags.limit ?? DEFAULT_SEARCH_LIMIT));
      const list = (await callDaemon(dataDir, 'GET', `/v1/search?${query}`)) as FoundMessage[];
      if (flags.json) {
        printJson(list);
        return;
      }
      const { code, names } = await whoIsWho(dataDir);
      printLines(
        list.map((m) => formatFound(m, code, names)),
        'nothing found',
      );
    });
}

interface MessagesFlags {
  peek?: boolean;
  limit?: number;
  before?: string;
}

/** Refuses what the daemon would refuse, before asking it (see the top of this file). */
export function checkMessage(text: string): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new DhtchatError(
      'CHAT_MESSAGE_TOO_LARGE',
      `message is ${bytes} bytes of UTF-8; the limit is ${MAX_MESSAGE_BYTES} bytes (16 KiB)`,
    );
  }
  if (BLANK.test(text)) {
    throw new DhtchatError('CHAT_MESSAGE_EMPTY', 'the message is empty (or only spaces): nothing sent');
  }
  return text;
}

/**
 * The message text from standard input: UTF-8, trailing newlines dropped (`echo hi |` sends "hi"). Reads at
 * most one byte past the limit plus a line end, so an endless input is refused without being read whole.
 */
export async function readStdinText(input: NodeJS.ReadableStream): Promise<string> {
  const maxBytes = MAX_MESSAGE_BYTES + 2;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'utf8');
    chunks.push(bytes);
    size += bytes.length;
    if (size > maxBytes) break;
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length > maxBytes) {
    throw new DhtchatError(
      'CHAT_MESSAGE_TOO_LARGE',
      `the message on standard input is over ${MAX_MESSAGE_BYTES} bytes (16 KiB)`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DhtchatError('APP_BAD_INPUT', 'the message on standard input is not valid UTF-8');
  }
  return text.replace(/(?:\r?\n)+$/, '');
}

function parseLimit(text: string): number {
  const limit = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_MESSAGES_PER_CALL)) {
    throw new InvalidArgumentError(`a limit is a number from 1 to ${MAX_MESSAGES_PER_CALL}, got "${text}".`);
  }
  return limit;
}

/**
 * A message id (32 hex digits, as --json prints; a group message's is 64), Unix ms, or an ISO 8601 time (as the
 * lines print).
 */
function parseBefore(text: string): string {
  if (/^(?:[0-9a-f]{32}|[0-9a-f]{64})$/i.test(text)) return text.toLowerCase();
  if (/^\d{1,16}$/.test(text)) return text;
  const ms = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isFinite(ms) && ms >= 0) return String(ms);
  throw new InvalidArgumentError(
    `--before takes a message id (32 hex digits), Unix ms or an ISO time like 2024-05-01T10:00:00Z, got "${text}".`,
  );
}

/** Our code and the contacts' names by code, to label messages. */
async function whoIsWho(dataDir: string): Promise<{ code: string; names: Map<string, string> }> {
  // Not GET /v1/id: that one tells the daemon our code is being shown (request-beacon.ts).
  const { code } = (await callDaemon(dataDir, 'GET', '/v1/profile')) as { code: string };
  const contacts = (await callDaemon(dataDir, 'GET', '/v1/contacts')) as ContactView[];
  return { code, names: new Map(contacts.map((c) => [c.code, c.name])) };
}
