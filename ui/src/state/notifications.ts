/**
 * Desktop notifications for messages that arrive while the tab is hidden (Notification API). Permission is
 * asked only from a click in the settings (browsers refuse it otherwise). The text is the message's, as text:
 * notifications render no markup.
 */
import { signal } from '@preact/signals';
import { openChat } from './navigation.ts';

const isSupported = typeof Notification !== 'undefined';

export const notificationPermission = signal<NotificationPermission | 'unsupported'>(
  isSupported ? Notification.permission : 'unsupported',
);

export async function askNotificationPermission(): Promise<void> {
  if (!isSupported) return;
  notificationPermission.value = await Notification.requestPermission();
}

/** `open` shows where the message is (default: the conversation with `code`). */
export function notifyMessage(code: string, name: string, text: string, open = () => openChat(code)): void {
  if (!isSupported || Notification.permission !== 'granted') return;
  const notification = new Notification(name, { body: text.slice(0, 200), tag: code });
  notification.onclick = () => {
    window.focus();
    open();
    notification.close();
  };
}
