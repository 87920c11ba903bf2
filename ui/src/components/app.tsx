/**
 * The page: a sign-in notice while there is no session, the onboarding on a first run, then the list (contacts,
 * requests, navigation) beside the open screen — one of them at a time below 720 px.
 */
import { useSignalEffect } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { isContactsLoaded, totalUnread } from '../state/contacts.ts';
import { totalGroupUnread } from '../state/groups.ts';
import { openChatCode, screen } from '../state/navigation.ts';
import { signIn } from '../state/session.ts';
import { AddFriend } from './add-friend.tsx';
import { ConversationView } from './conversation-view.tsx';
import { FilesView } from './files-view.tsx';
import { GroupConversation } from './group-conversation.tsx';
import { GroupsView } from './groups-view.tsx';
import { FriendCodeScreen } from './friend-code-card.tsx';
import { LinkDialog } from './link-dialog.tsx';
import { LiveRegion } from './live-region.tsx';
import { NetworkPanel } from './network-panel.tsx';
import { isOnboardingDue, Onboarding } from './onboarding.tsx';
import { RequestsView } from './requests-view.tsx';
import { SettingsView } from './settings-view.tsx';
import { Sidebar } from './sidebar.tsx';
import { SignInPage } from './sign-in-page.tsx';
import { StatusBanner } from './status-banner.tsx';
import { Welcome } from './welcome.tsx';

export function App() {
  useSignalEffect(() => {
    const unread = totalUnread.value + totalGroupUnread.value;
    document.title = unread > 0 ? `(${unread}) dhtchat` : 'dhtchat';
  });
  const state = signIn.value;
  if (state !== 'signed-in' || !isContactsLoaded.value) {
    return (
      <>
        <SignInPage state={state === 'signed-in' ? 'checking' : state} />
        <LiveRegion />
      </>
    );
  }
  if (isOnboardingDue()) {
    return (
      <>
        <Onboarding />
        <LiveRegion />
      </>
    );
  }
  const current = screen.value;
  return (
    <div class={`layout ${current.kind === 'home' ? 'show-list' : 'show-main'}`}>
      <StatusBanner />
      <Sidebar />
      <main class="main-pane" id="main">
        <MainScreen />
      </main>
      <LinkDialog />
      <LiveRegion />
    </div>
  );
}

function MainScreen() {
  const current = screen.value;
  useEffect(() => {
    // A new screen takes the focus to its heading, so keyboard and screen-reader users land on it.
    const heading = document.querySelector<HTMLElement>('#main h1, #main h2');
    heading?.focus({ preventScroll: true });
  }, [current.kind, openChatCode(), current.kind === 'group' ? current.id : '']);
  switch (current.kind) {
    case 'home':
      return <Welcome />;
    case 'chat':
      return <ConversationView key={current.code} code={current.code} />;
    case 'add':
      return <AddFriend />;
    case 'requests':
      return <RequestsView />;
    case 'network':
      return <NetworkPanel />;
    case 'settings':
      return <SettingsView />;
    case 'files':
      return <FilesView />;
    case 'groups':
      return <GroupsView />;
    case 'group':
      return <GroupConversation key={current.id} id={current.id} />;
    case 'code':
      return <FriendCodeScreen />;
  }
}
