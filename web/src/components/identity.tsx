// A person: each account with its provider, state and risks, the actions this
// analyst may take (and why not), what to know before the click, and the
// recent actions on them. Shown as the user page and in the side panel.
import { useCallback, useEffect, useState } from 'preact/hooks';

import { describe, get, query } from '../api';
import { actionName, localTime, providerName } from '../format';
import { identityHref } from '../nav';
import type { Account, AccountAction, Action, Identity, IdentitySummary, Me, Page } from '../types';
import { isFinished } from '../types';
import { ActionTable, usePoll } from './actions';
import { ErrorBox, Link, Loading, Modal, PanelTarget, mayRun, useServices } from './common';

const RISK_WORDS: Record<string, string> = {
  none: 'None',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  hidden: 'Hidden (not licensed)',
};

// Why an action is not allowed, in the console's words where the reason is
// the role (the API's `why` names the action and provider by their ids).
function whyNot(me: Me, account: Account, action: AccountAction): string {
  if (!mayRun(me, account.provider, action.action))
    return `Your role (${me.role}) may not ${actionName(action.action).toLowerCase()} at ${providerName(account.provider)}.`;
  return action.why ?? 'Your role may not do this.';
}

function AccountCard({ identity, account, onSubmitted }: { identity: Identity; account: Account; onSubmitted: (a: Action) => void }) {
  const { confirm, me } = useServices();
  const key = `${account.provider}-${account.id}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const flags = [
    account.syncedFromAd && 'Synced from AD',
    account.adminProtected && 'Protected by AdminSDHolder (adminCount=1)',
    account.guest && 'Guest',
    account.mustChangePassword && 'Must change password',
  ].filter(Boolean) as string[];
  // A warning that holds for several actions (AdminSDHolder) is said once, above them.
  const seen = new Map<string, number>();
  for (const a of account.actions) for (const w of a.warnings) seen.set(w, (seen.get(w) ?? 0) + 1);
  const shared = [...seen].filter(([, n]) => n > 1).map(([w]) => w);
  return (
    <section class={`card provider-${account.provider}`} aria-labelledby={`acct-${key}`} data-account={`${account.provider}:${account.login}`}>
      <header>
        <h3 id={`acct-${key}`}>
          {providerName(account.provider)} <span class="login">{account.login || account.id}</span>
        </h3>
        <span class={`state state-${account.status}`}>
          {account.status}
          {account.providerStatus && account.providerStatus.toLowerCase() !== account.status && ` (${account.providerStatus})`}
        </span>
      </header>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{account.displayName || '—'}</dd>
        <dt>Provider's risk</dt>
        <dd>{account.providerRisk ? RISK_WORDS[account.providerRisk] ?? account.providerRisk : 'Not reported'}</dd>
        <dt>Cordon's risk</dt>
        <dd class={account.riskLevel === 'high' ? 'risk-high' : undefined}>{account.riskLevel === 'high' ? 'High' : 'None'}</dd>
        {account.upn && account.upn !== account.login && (
          <>
            <dt>UPN</dt>
            <dd>{account.upn}</dd>
          </>
        )}
        {account.sid && (
          <>
            <dt>SID</dt>
            <dd class="mono">{account.sid}</dd>
          </>
        )}
        {account.mail && (
          <>
            <dt>Mail</dt>
            <dd>{account.mail}</dd>
          </>
        )}
        <dt>Id</dt>
        <dd class="mono">{account.id}</dd>
        <dt>Seen</dt>
        <dd>{localTime(account.seenAt)}</dd>
      </dl>
      {flags.length > 0 && (
        <p class="flags">
          {flags.map((f) => (
            <span class="tag" key={f}>
              {f}
            </span>
          ))}
        </p>
      )}
      {shared.length > 0 && (
        <ul class="warnings" id={`${key}-shared`}>
          {shared.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <ul class="account-actions" aria-label={`Actions on ${account.login || account.id} in ${providerName(account.provider)}`}>
        {account.actions.map((a) => {
          const id = `${key}-${a.action}`;
          const own = a.warnings.filter((w) => !shared.includes(w));
          const notes = [
            a.allowed ? '' : `${id}-why`,
            a.allowed && !a.applicable ? `${id}-na` : '',
            own.length ? `${id}-warn` : '',
            a.warnings.length > own.length ? `${key}-shared` : '',
          ]
            .filter(Boolean)
            .join(' ');
          return (
            <li key={a.action} class={a.applicable ? undefined : 'not-applicable'}>
              <button
                type="button"
                class="action"
                disabled={!a.allowed}
                aria-describedby={notes || undefined}
                data-action={a.action}
                onClick={() => confirm({ identity, account, action: a, onSubmitted })}
              >
                {actionName(a.action)}
              </button>
              {!a.allowed && (
                <span class="why" id={`${id}-why`}>
                  {whyNot(me, account, a)}
                </span>
              )}
              {a.allowed && !a.applicable && (
                <span class="na" id={`${id}-na`}>
                  Not applicable now: it would change nothing.
                </span>
              )}
              {own.length > 0 && (
                <ul class="warnings" id={`${id}-warn`}>
                  {own.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

// `live`: actions submitted from this view, polled until they finish.
export function IdentityView(props: { identity: Identity; heading: 'h1' | 'h2'; headingId: string; reload: () => Promise<void> }) {
  const { identity } = props;
  const [submitted, setSubmitted] = useState<Action[]>([]);
  const shown = [...submitted.filter((s) => !identity.recentActions.some((r) => r.id === s.id)), ...identity.recentActions];
  const refresh = async () => {
    const fresh = await Promise.all(
      submitted.map((s) => (isFinished(s.status) ? s : get<Action>(`/api/v1/actions/${encodeURIComponent(s.id)}`))),
    );
    setSubmitted(fresh);
    if (fresh.every((s) => isFinished(s.status))) await props.reload();
  };
  usePoll(shown.some((a) => !isFinished(a.status)), refresh);
  const Heading = props.heading;
  return (
    <div class="identity">
      <div class="identity-head">
        <Heading id={props.headingId} tabIndex={-1}>
          {identity.displayName}
        </Heading>
        {identity.domain && <span class="domain">{identity.domain}</span>}
        {identity.riskLevel === 'high' && <span class="risk-tag">High risk (Cordon)</span>}
      </div>
      <div class="cards">
        {identity.accounts.map((a) => (
          <AccountCard
            key={`${a.provider}:${a.id}`}
            identity={identity}
            account={a}
            onSubmitted={(created) => setSubmitted((s) => [created, ...s])}
          />
        ))}
      </div>
      <h3 class="section">Recent actions</h3>
      <div aria-live="polite">
        {shown.length === 0 ? (
          <p class="empty">No action has been taken on this person.</p>
        ) : (
          <ActionTable actions={shown} caption={`Recent actions on ${identity.displayName}`} outcome />
        )}
      </div>
    </div>
  );
}

function useIdentity(id: string | null) {
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    if (!id) return;
    try {
      setIdentity(await get<Identity>(`/api/v1/identities/${encodeURIComponent(id)}`));
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  }, [id]);
  useEffect(() => {
    setIdentity(null);
    void load();
  }, [load]);
  return { identity, error, load };
}

export function UserPage({ id }: { id: string }) {
  const { identity, error, load } = useIdentity(id);
  // The heading shown while loading had the page's focus; its replacement takes it on.
  const loaded = identity !== null;
  useEffect(() => {
    if (loaded && (document.activeElement === null || document.activeElement === document.body))
      document.getElementById('identity-title')?.focus();
  }, [loaded]);
  if (!identity)
    return (
      <>
        <h1 tabIndex={-1}>Person</h1>
        <ErrorBox message={error} />
        {!error && <Loading what="the person" />}
      </>
    );
  return (
    <>
      <ErrorBox message={error} />
      <IdentityView identity={identity} heading="h1" headingId="identity-title" reload={load} />
    </>
  );
}

// The identity an action's account belongs to, found through the search.
async function identityOfAccount(provider: string, account: string, accountId: string | null): Promise<string | null> {
  for (const q of [accountId, account]) {
    if (!q) continue;
    const page = await get<Page<IdentitySummary>>(`/api/v1/identities${query({ q, limit: '20' })}`);
    const lower = account.toLowerCase();
    const found = page.value.find((i) =>
      i.accounts.some((a) => a.provider === provider && (a.id === accountId || a.login.toLowerCase() === lower)),
    );
    if (found) return found.id;
  }
  return null;
}

export function SidePanel({ target, onClose }: { target: PanelTarget; onClose: () => void }) {
  const [id, setId] = useState<string | null>('identityId' in target ? target.identityId : null);
  const [lookupError, setLookupError] = useState<string | null>(null);
  useEffect(() => {
    if ('identityId' in target) return;
    identityOfAccount(target.provider, target.account, target.accountId)
      .then((found) => {
        if (found) setId(found);
        else setLookupError(`Cordon's inventory has no person with the ${providerName(target.provider)} account ${target.account}.`);
      })
      .catch((e) => setLookupError(describe(e)));
  }, []);
  const { identity, error, load } = useIdentity(id);
  return (
    <Modal labelledBy="panel-title" class="panel" onClose={onClose}>
      <div class="panel-bar">
        {identity ? (
          <Link href={identityHref(identity.id)}>Open the user page</Link>
        ) : (
          <span id={identity ? undefined : 'panel-title'}>Person</span>
        )}
        <button type="button" class="close" onClick={onClose} aria-label="Close the panel (Esc)">
          ✕
        </button>
      </div>
      <ErrorBox message={lookupError ?? error} />
      {!identity && !lookupError && !error && <Loading what="the person" />}
      {identity && <IdentityView identity={identity} heading="h2" headingId="panel-title" reload={load} />}
    </Modal>
  );
}

