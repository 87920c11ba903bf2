/**
 * The identity backup from settings (POST /v1/backup/export): the daemon seals the backup file under the
 * passphrase typed here and sends it back; the page hands it to the browser as a download. Restored on another
 * computer with `dhtchat import <file>` into an empty data dir.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiDownload, apiGet, isMissingRoute } from '../api/api-client.ts';
import { announce } from '../state/announcer.ts';

export function BackupExportForm() {
  const [isProtected, setProtected] = useState(false);
  const [current, setCurrent] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState('');
  const [isBusy, setBusy] = useState(false);
  const [isMissing, setMissing] = useState(false);
  useEffect(() => {
    apiGet<{ isProtected: boolean }>('/v1/passphrase').then(
      (s) => setProtected(s.isProtected),
      () => setProtected(false),
    );
  }, []);

  const save = async (): Promise<void> => {
    setError('');
    if (passphrase.length === 0) {
      setError('Type a passphrase for the backup file.');
      return;
    }
    if (passphrase !== again) {
      setError('The two passphrases differ.');
      return;
    }
    setBusy(true);
    try {
      const file = await apiDownload('/v1/backup/export', {
        passphrase,
        ...(isProtected ? { current } : {}),
      });
      const url = URL.createObjectURL(file.blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = file.fileName;
      link.click();
      // The browser has taken the file once the click is handled.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setCurrent('');
      setPassphrase('');
      setAgain('');
      announce(`backup saved as ${file.fileName}`);
    } catch (e) {
      if (isMissingRoute(e)) setMissing(true);
      else setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  if (isMissing) {
    return (
      <>
        <p>This dhtchat daemon cannot make a backup from here yet. In a terminal:</p>
        <pre class="command">npx dhtchat export ~/dhtchat-backup.dat</pre>
      </>
    );
  }
  return (
    <form
      class="form"
      aria-labelledby="backup-title"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <p class="hint">
        Your identity (the key your friends know), your contacts and your messages, in one file encrypted with
        a passphrase you choose: keep both to move to a new computer, where{' '}
        <code>npx dhtchat import &lt;file&gt;</code> restores it.
      </p>
      {isProtected && (
        <>
          <label for="backup-current">Your current passphrase</label>
          <input
            id="backup-current"
            type="password"
            autocomplete="current-password"
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </>
      )}
      <label for="backup-pass">Passphrase for the backup file</label>
      <input
        id="backup-pass"
        type="password"
        autocomplete="new-password"
        value={passphrase}
        onInput={(e) => setPassphrase(e.currentTarget.value)}
      />
      <label for="backup-again">Passphrase for the backup file again</label>
      <input
        id="backup-again"
        type="password"
        autocomplete="new-password"
        value={again}
        onInput={(e) => {
          setAgain(e.currentTarget.value);
          setError('');
        }}
      />
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={isBusy}>
        {isBusy ? 'Encrypting…' : 'Download backup'}
      </button>
    </form>
  );
}
