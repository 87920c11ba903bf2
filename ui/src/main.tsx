/**
 * The web client's entry: applies the saved theme, checks the session, then renders the app and follows the
 * daemon's event stream. Everything shown comes from the daemon's local API on this origin.
 */
import { render } from 'preact';
import { App } from './components/app.tsx';
import { applyTheme, theme } from './lib/theme.ts';
import { startChatEvents } from './state/chat-events.ts';
import { loadContacts } from './state/contacts.ts';
import { loadFiles } from './state/files.ts';
import { loadGroups } from './state/groups.ts';
import { loadSession } from './state/session.ts';

applyTheme(theme.value);
const root = document.getElementById('app');
if (root !== null) render(<App />, root);

void (async () => {
  if (!(await loadSession())) return;
  await Promise.all([loadContacts(), loadFiles(), loadGroups()]);
  startChatEvents();
})();
