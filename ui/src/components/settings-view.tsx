/** Settings: your name, your passphrase, backup, theme, notifications, logging out of this browser. */
import { useState } from 'preact/hooks';
import { applyTheme, type ThemeChoice, theme } from '../lib/theme.ts';
import { announce } from '../state/announcer.ts';
import { askNotificationPermission, notificationPermission } from '../state/notifications.ts';
import { hasProfileApi, logOut, ownName, saveName } from '../state/session.ts';
import { Panel } from './panel.tsx';
import { BackupExportForm } from './backup-export-form.tsx';
import { PassphraseForm } from './passphrase-form.tsx';

export function SettingsView() {
  return (
    <Panel titleId="settings-title" title="Settings">
      <h2>Your name</h2>
      <NameForm />
      <h2>Passphrase</h2>
      <PassphraseForm />
      <h2 id="backup-title">Backup</h2>
      <BackupExportForm />
      <h2>Appearance</h2>
      <fieldset class="choices">
        <legend>Theme</legend>
        {(['system', 'light', 'dark'] as const).map((choice: ThemeChoice) => (
          <label key={choice} class="checkbox">
            <input
              type="radio"
              name="theme"
              value={choice}
              checked={theme.value === choice}
              onChange={() => applyTheme(choice)}
            />
            {choice === 'system' ? 'As the system' : choice === 'light' ? 'Light' : 'Dark'}
          </label>
        ))}
      </fieldset>
      <h2>Notifications</h2>
      <Notifications />
      <h2>This browser</h2>
      <p>Logging out ends this browser's session; a new login link logs in again.</p>
      <button type="button" onClick={() => void logOut()}>
        Log out
      </button>
    </Panel>
  );
}

export function NameForm({ onDone }: { onDone?: () => void }) {
  const [name, setName] = useState(ownName.value ?? '');
  const [error, setError] = useState('');
  if (!hasProfileApi.value) {
    return (
      <p class="hint">
        This dhtchat daemon cannot change your name from here yet. Your name is set with dhtchat init --name.
      </p>
    );
  }
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        setError('');
        saveName(name.trim()).then(
          () => {
            announce('name saved');
            onDone?.();
          },
          (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
        );
      }}
    >
      <label for="own-name">The name your friends see</label>
      <input id="own-name" value={name} maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={name.trim().length === 0}>
        Save name
      </button>
    </form>
  );
}

function Notifications() {
  const permission = notificationPermission.value;
  if (permission === 'unsupported') return <p class="hint">This browser cannot show notifications.</p>;
  if (permission === 'granted') return <p>New messages show as notifications while this tab is hidden.</p>;
  if (permission === 'denied')
    return <p class="hint">Notifications are blocked for this page in the browser.</p>;
  return (
    <button type="button" onClick={() => void askNotificationPermission()}>
      Show notifications for new messages
    </button>
  );
}
