/** No session (or no daemon): what to do, in words. The page never asks for or holds a token. */
import type { SignIn } from '../state/session.ts';

export function SignInPage({ state }: { state: SignIn }) {
  if (state === 'checking') {
    return (
      <main class="center-page">
        <p role="status">Connecting to dhtchat…</p>
      </main>
    );
  }
  if (state === 'no-daemon') {
    return (
      <main class="center-page">
        <h1>dhtchat is not running</h1>
        <p>Start it in a terminal, then reload this page:</p>
        <pre class="command">npx dhtchat</pre>
      </main>
    );
  }
  return (
    <main class="center-page">
      <h1>Log in to dhtchat</h1>
      <p>
        Open the login link that <code>npx dhtchat</code> printed when it started. Each link works once; for a
        new one, run:
      </p>
      <pre class="command">npx dhtchat web --open</pre>
      <p class="hint">(Add --data-dir D before web if you started dhtchat with one.)</p>
    </main>
  );
}
