/**
 * Your friend code, to give to friends: as text, as a QR code, and as a `dhtchat:` link that carries your name
 * as the suggested one; each with a copy button. The code is your public key: not a secret, but it lets anyone
 * send you requests and watch when you are online (docs/THREAT-MODEL.md), so share it with people, not pages.
 * Showing the card tells the daemon (noteCodeShown): a request may follow, so it looks for one every few seconds.
 */
import { friendLink } from '../lib/friend-code-input.ts';
import { useEffect } from 'preact/hooks';
import { noteCodeShown, ownCode, ownName } from '../state/session.ts';
import { CopyButton } from './copy-button.tsx';
import { QrCode } from './qr-code.tsx';

export function FriendCodeCard() {
  const code = ownCode.value;
  const link = friendLink(code, ownName.value);
  useEffect(() => {
    void noteCodeShown();
  }, []);
  return (
    <div class="friend-code-card">
      <QrCode text={link} label="QR code of your friend link" />
      <div class="friend-code-text">
        <p class="label" id="own-code-label">
          Your friend code
        </p>
        <p class="code" data-testid="own-code">
          {code}
        </p>
        <div class="button-row">
          <CopyButton text={code} label="Copy code" what="friend code" />
          <CopyButton text={link} label="Copy link" what="friend link" />
        </div>
        <p class="hint">
          Link: <a href={link}>{link}</a>
        </p>
      </div>
    </div>
  );
}

export function FriendCodeScreen() {
  return (
    <section class="panel" aria-labelledby="code-title">
      <h1 id="code-title" tabIndex={-1}>
        My friend code
      </h1>
      <p>Give this to a friend (or let them scan the QR code); they add you with it, and you accept.</p>
      <FriendCodeCard />
    </section>
  );
}
