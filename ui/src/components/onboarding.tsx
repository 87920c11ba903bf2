/**
 * The first run: a name for your friends to see, an optional passphrase for your identity file, and your friend
 * code to share. Shown while you have no name and no friends, until finished or skipped (remembered in this
 * browser's localStorage: a preference, nothing secret).
 */
import { signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { contacts, requests } from '../state/contacts.ts';
import { hasProfileApi, ownName } from '../state/session.ts';
import { FriendCodeCard } from './friend-code-card.tsx';
import { PassphraseForm } from './passphrase-form.tsx';
import { NameForm } from './settings-view.tsx';

const DONE_KEY = 'dhtchat-onboarded';
const isDismissed = signal(readDismissed());
const step = signal<1 | 2 | 3>(1);

/** Decided once, when the lists are first known: setting the name in step 1 must not end the onboarding. */
let isFirstRun: boolean | undefined;

/** Called once the contact lists are loaded. */
export function isOnboardingDue(): boolean {
  if (isDismissed.value) return false;
  isFirstRun ??=
    (ownName.value === null || !hasProfileApi.value) &&
    contacts.value.length === 0 &&
    requests.value.length === 0;
  return isFirstRun;
}

export function Onboarding() {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [step.value]);
  const next = (): void => {
    step.value = step.value === 1 ? 2 : 3;
  };
  return (
    <main class="center-page onboarding" aria-labelledby="onboarding-title">
      <p class="hint">Step {step.value} of 3</p>
      {step.value === 1 && (
        <>
          <h1 id="onboarding-title" ref={heading} tabIndex={-1}>
            Welcome to dhtchat
          </h1>
          <p>Chat with no server: your friends and you find each other through the BitTorrent DHT.</p>
          <NameForm onDone={next} />
        </>
      )}
      {step.value === 2 && (
        <>
          <h1 id="onboarding-title" ref={heading} tabIndex={-1}>
            A passphrase (optional)
          </h1>
          <PassphraseForm onDone={next} />
        </>
      )}
      {step.value === 3 && (
        <>
          <h1 id="onboarding-title" ref={heading} tabIndex={-1}>
            Your friend code
          </h1>
          <p>Give it to a friend; they add you with it. Or add them with theirs.</p>
          <FriendCodeCard />
        </>
      )}
      <div class="button-row end">
        {step.value < 3 && (
          <button type="button" onClick={next}>
            {step.value === 1 && !hasProfileApi.value ? 'Next' : 'Skip this step'}
          </button>
        )}
        <button type="button" class={step.value === 3 ? 'primary' : ''} onClick={finish}>
          {step.value === 3 ? 'Start chatting' : 'Skip all'}
        </button>
      </div>
    </main>
  );
}

function finish(): void {
  isDismissed.value = true;
  try {
    localStorage.setItem(DONE_KEY, '1');
  } catch {
    // Private mode without storage: shown again next time, no harm.
  }
}

function readDismissed(): boolean {
  try {
    return localStorage.getItem(DONE_KEY) === '1';
  } catch {
    return false;
  }
}
