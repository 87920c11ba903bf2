/**
 * Set, change or remove the passphrase that protects your identity file at rest (POST /v1/passphrase). With one
 * set, dhtchat asks for it (or reads DHTCHAT_PASSPHRASE) every time it starts.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api/api-client.ts';
import { announce } from '../state/announcer.ts';

export function PassphraseForm({ onDone }: { onDone?: () => void }) {
  const [isProtected, setProtected] = useState<boolean | undefined>(undefined);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState('');
  const [isBusy, setBusy] = useState(false);
  useEffect(() => {
    apiGet<{ isProtected: boolean }>('/v1/passphrase').then(
      (s) => setProtected(s.isProtected),
      () => setProtected(undefined),
    );
  }, []);

  const save = async (remove: boolean): Promise<void> => {
    setError('');
    if (!remove && next !== again) {
      setError('The two passphrases differ.');
      return;
    }
    if (!remove && next.length === 0) {
      setError('Type a passphrase (or leave this step).');
      return;
    }
    setBusy(true);
    try {
      const state = await apiPost<{ isProtected: boolean }>('/v1/passphrase', {
        ...(isProtected === true ? { current } : {}),
        passphrase: remove ? '' : next,
      });
      setProtected(state.isProtected);
      setCurrent('');
      setNext('');
      setAgain('');
      announce(state.isProtected ? 'passphrase saved' : 'passphrase removed');
      onDone?.();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void save(false);
      }}
    >
      <p class="hint">
        {isProtected === true
          ? 'Your identity file is protected by a passphrase.'
          : 'Your identity file is not protected by a passphrase (it is readable only by you on this computer).'}{' '}
        With a passphrase, dhtchat asks for it each time it starts (or reads DHTCHAT_PASSPHRASE).
      </p>
      {isProtected === true && (
        <>
          <label for="pass-current">Current passphrase</label>
          <input
            id="pass-current"
            type="password"
            autocomplete="current-password"
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </>
      )}
      <label for="pass-next">New passphrase</label>
      <input
        id="pass-next"
        type="password"
        autocomplete="new-password"
        value={next}
        onInput={(e) => setNext(e.currentTarget.value)}
      />
      <label for="pass-again">New passphrase again</label>
      <input
        id="pass-again"
        type="password"
        autocomplete="new-password"
        value={again}
        onInput={(e) => setAgain(e.currentTarget.value)}
      />
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="button-row">
        <button type="submit" class="primary" disabled={isBusy}>
          {isBusy ? 'Saving…' : isProtected === true ? 'Change passphrase' : 'Set passphrase'}
        </button>
        {isProtected === true && (
          <button type="button" disabled={isBusy} onClick={() => void save(true)}>
            Remove passphrase
          </button>
        )}
      </div>
    </form>
  );
}
