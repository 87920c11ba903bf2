/** The main pane before anything is opened (wide screens): where to start. */
import { contacts } from '../state/contacts.ts';
import { show } from '../state/navigation.ts';

export function Welcome() {
  const hasFriends = contacts.value.length > 0;
  return (
    <section class="welcome" aria-labelledby="welcome-title">
      <h1 id="welcome-title" tabIndex={-1}>
        {hasFriends ? 'Pick a conversation' : 'Welcome to dhtchat'}
      </h1>
      <p>
        {hasFriends
          ? 'Choose a friend in the list to chat.'
          : 'Chat with no server: share your friend code, or add a friend by theirs.'}
      </p>
      <div class="button-row">
        <button type="button" class="primary" onClick={() => show({ kind: 'add' })}>
          Add a friend
        </button>
        <button type="button" onClick={() => show({ kind: 'code' })}>
          Show my friend code
        </button>
      </div>
    </section>
  );
}
