// The console's shell: who is signed in (GET /api/v1/me), the header with the
// search and navigation, the page of the current route, the side panel and the
// confirmation dialog.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

import './styles.css';
import { ApiError, describe, get, onSignedOut, request } from './api';
import { ActionCenter, ActionDetails, ActionTable, usePoll } from './components/actions';
import { ConfirmRequest, ErrorBox, Link, Loading, PanelTarget, ServicesContext, Services, modalOpen } from './components/common';
import { ConfirmAction } from './components/confirm';
import { SidePanel, UserPage } from './components/identity';
import { Search } from './components/search';
import { SignIn } from './components/signin';
import { BASE, Route, useRoute } from './nav';
import type { Action, Me, Page } from './types';
import { isFinished } from './types';

function Home() {
  const [latest, setLatest] = useState<Action[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      setLatest((await get<Page<Action>>('/api/v1/actions?limit=10')).value);
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  };
  useEffect(() => void load(), []);
  usePoll(!!latest && latest.some((a) => !isFinished(a.status)), load);
  return (
    <>
      <h1 tabIndex={-1}>Find a person, act, undo</h1>
      <p class="lead">
        Press <kbd>/</kbd> and type a name, UPN, SID or provider id. <kbd>↑</kbd> <kbd>↓</kbd> choose,{' '}
        <kbd>Enter</kbd> opens the person, <kbd>Esc</kbd> closes.
      </p>
      <h2>Latest actions</h2>
      <ErrorBox message={error} />
      {!latest && !error && <Loading what="the latest actions" />}
      {latest && latest.length === 0 && <p class="empty">No action has been asked for yet.</p>}
      {latest && <ActionTable actions={latest} caption="The ten latest actions" />}
      <p>
        <Link href={`${BASE}/actions`}>All actions in the action center →</Link>
      </p>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'home':
      return <Home />;
    case 'actions':
      return <ActionCenter params={route.params} />;
    case 'action':
      return <ActionDetails id={route.id} />;
    case 'identity':
      return <UserPage id={route.id} />;
    case 'missing':
      return (
        <>
          <h1 tabIndex={-1}>No such page</h1>
          <p>
            <Link href={`${BASE}/`}>Go to the start page</Link>
          </p>
        </>
      );
  }
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const route = useRoute();
  const [panel, setPanel] = useState<PanelTarget | null>(null);
  const [confirming, setConfirming] = useState<ConfirmRequest | null>(null);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const services: Services = { me, openPanel: setPanel, confirm: setConfirming };

  // A new page: the panel closes, focus goes to the page's heading. A panel
  // that was open gives the focus back to what opened it when it goes (the
  // search, whose list would open again over the new page): the heading
  // takes it once more after that.
  const panelOpen = useRef(false);
  panelOpen.current = panel !== null;
  useEffect(() => {
    const hadPanel = panelOpen.current;
    setPanel(null);
    document.querySelector<HTMLElement>('main h1')?.focus();
    if (!hadPanel) return;
    const frame = requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
    return () => cancelAnimationFrame(frame);
  }, [window.location.pathname, window.location.search]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || modalOpen()) return;
      const target = event.target as HTMLElement;
      if (target.closest('input, textarea, select, [contenteditable]')) return;
      event.preventDefault();
      document.getElementById('search')?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const signOut = async () => {
    try {
      await request<void>('DELETE', '/console/session');
      onSignOut();
    } catch (e) {
      setSignOutError(describe(e));
    }
  };

  return (
    <ServicesContext.Provider value={services}>
      <a class="skip" href="#main">
        Skip to the page
      </a>
      <header class="top">
        <Link href={`${BASE}/`} class="brand" label="Cordon, start page">
          Cordon
        </Link>
        <nav aria-label="Main">
          <Link href={`${BASE}/actions`} current={route.page === 'actions' || route.page === 'action'}>
            Action center
          </Link>
        </nav>
        <Search />
        <div class="who">
          <span title={`token ${me.tokenId}`}>
            {me.name} · <span class="role">{me.role}</span>
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <ErrorBox message={signOutError} />
      <main id="main">
        <Page route={route} />
      </main>
      {panel && <SidePanel key={JSON.stringify(panel)} target={panel} onClose={() => setPanel(null)} />}
      {confirming && <ConfirmAction request={confirming} onClose={() => setConfirming(null)} />}
    </ServicesContext.Provider>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [state, setState] = useState<'loading' | 'signed-out' | 'ready' | 'error'>('loading');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const whoAmI = async () => {
    try {
      setMe(await get<Me>('/api/v1/me'));
      setState('ready');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setState('signed-out');
      else {
        setError(describe(e));
        setState('error');
      }
    }
  };
  useEffect(() => {
    void whoAmI();
    return onSignedOut(() => {
      setNotice('Your session ended (the token was revoked or expired, or you signed out elsewhere). Sign in again.');
      setState('signed-out');
    });
  }, []);

  if (state === 'loading') return <Loading what="Cordon" />;
  if (state === 'error')
    return (
      <main class="signin">
        <h1>Cordon</h1>
        <ErrorBox message={error} />
        <button type="button" onClick={() => location.reload()}>
          Try again
        </button>
      </main>
    );
  if (state === 'signed-out' || !me) return <SignIn notice={notice} onSignedIn={() => { setNotice(null); void whoAmI(); }} />;
  return <Shell me={me} onSignOut={() => { setMe(null); setNotice('You signed out.'); setState('signed-out'); }} />;
}

render(<App />, document.getElementById('app')!);
