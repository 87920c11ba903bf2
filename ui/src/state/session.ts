/**
 * Who we are and whether we may talk to the daemon: signed in (the session cookie works), our friend code and
 * name, whether the daemon knows names (GET /v1/profile may be missing on an older daemon), the event stream's
 * state.
 */
import { signal } from '@preact/signals';
import { ApiError, apiGet, apiPost, isMissingRoute, whenSignedOut } from '../api/api-client.ts';
import type { ProfileView } from '../api/api-types.ts';
import type { StreamStatus } from '../api/event-stream.ts';

export type SignIn = 'checking' | 'signed-in' | 'signed-out' | 'no-daemon';

export const signIn = signal<SignIn>('checking');
export const ownCode = signal('');
export const ownName = signal<string | null>(null);
/** False when the daemon answers no /v1/profile (names are then set with `dhtchat init --name`). */
export const hasProfileApi = signal(true);
export const streamStatus = signal<StreamStatus>('connecting');

whenSignedOut(() => {
  signIn.value = 'signed-out';
});

/** Checks the session and reads our code and name. */
export async function loadSession(): Promise<boolean> {
  try {
    const { code } = await apiGet<{ code: string }>('/v1/id');
    ownCode.value = code;
    signIn.value = 'signed-in';
  } catch (error) {
    signIn.value = error instanceof ApiError && error.status === 401 ? 'signed-out' : 'no-daemon';
    return false;
  }
  await loadProfile();
  return true;
}

/**
 * Our code card is on screen: reading the code again tells the daemon it is being shown (GET /v1/id), so it
 * looks for friend requests every few seconds for a while. A failure changes nothing on the page.
 */
export async function noteCodeShown(): Promise<void> {
  try {
    const { code } = await apiGet<{ code: string }>('/v1/id');
    ownCode.value = code;
  } catch {
    // Signed out or the daemon gone: the session and the event stream report that.
  }
}

export async function loadProfile(): Promise<void> {
  try {
    const profile = await apiGet<ProfileView>('/v1/profile');
    ownName.value = profile.name;
    hasProfileApi.value = true;
  } catch (error) {
    if (!isMissingRoute(error)) throw error;
    hasProfileApi.value = false;
  }
}

export async function saveName(name: string): Promise<void> {
  const profile = await apiPost<ProfileView>('/v1/profile', { name });
  ownName.value = profile.name;
}

export async function logOut(): Promise<void> {
  await apiPost('/v1/logout');
  signIn.value = 'signed-out';
}
