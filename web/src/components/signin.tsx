// Sign-in with an API token: it goes in a POST body once, and the server keeps
// it in an HttpOnly cookie the page cannot read.
import { useState } from 'preact/hooks';

import { describe, request } from '../api';
import { ErrorBox } from './common';

export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice: string | null }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!token.trim()) {
      setError('Paste your Cordon API token (it begins with cdn_).');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await request<void>('POST', '/console/session', { token: token.trim() });
      setToken('');
      onSignedIn();
    } catch (e) {
      setError(describe(e));
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={onSubmit} method="post" action="/console/session">
        <h1>Cordon</h1>
        <p>Contain compromised identities. Sign in with your API token.</p>
        {notice && <p class="note">{notice}</p>}
        <div class="field">
          <label for="token">API token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="off"
            spellcheck={false}
            autoFocus
            value={token}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <ErrorBox message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="hint">
          The token is kept in a cookie this page cannot read, for this browser session only. An administrator issues
          tokens with <code>cordon token create</code>.
        </p>
      </form>
    </main>
  );
}
