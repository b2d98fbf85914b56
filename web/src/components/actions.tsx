// The action center: the list with the API's filters, paging, live status and
// CSV export; an action's details with attempts, audit, links, cancel and undo.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { describe, get, query } from '../api';
import { ACTIONS, PROVIDERS, STATUSES, actionName, localTime, providerName, statusName, toLocalInput, toUtc } from '../format';
import { actionHref, navigate } from '../nav';
import type { Action, ActionDetail, Page } from '../types';
import { isFinished } from '../types';
import { ErrorBox, Link, Loading, StatusBadge, mayRun, useServices } from './common';
import { CancelDialog, UndoDialog } from './confirm';

const POLL_MS = 2000;
const PAGE_SIZE = 50;

// Calls `refresh` every POLL_MS while `active` holds (something shown is unfinished).
export function usePoll(active: boolean, refresh: () => Promise<void>): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer = 0;
    const tick = async () => {
      await latest.current().catch(() => undefined);
      if (!stopped) timer = window.setTimeout(tick, POLL_MS);
    };
    timer = window.setTimeout(tick, POLL_MS);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [active]);
}

// `outcome`: a column with each action's result in words instead of its reason.
export function ActionTable(props: { actions: Action[]; caption: string; outcome?: boolean }) {
  const { openPanel } = useServices();
  if (props.actions.length === 0) return null;
  return (
    <table class="actions-table">
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Requested</th>
          <th scope="col">Status</th>
          <th scope="col">Action</th>
          <th scope="col">Account</th>
          <th scope="col">By</th>
          <th scope="col">{props.outcome ? 'Outcome' : 'Reason'}</th>
        </tr>
      </thead>
      <tbody>
        {props.actions.map((a) => (
          <tr key={a.id} data-action-id={a.id}>
            <td data-label="Requested" class="time" title={a.createdAt ?? ''}>
              {localTime(a.createdAt)}
            </td>
            <td data-label="Status">
              <StatusBadge status={a.status} />
              {a.undoneBy && <span class="tag">undone</span>}
            </td>
            <td data-label="Action">
              <Link href={actionHref(a.id)} label={`${actionName(a.action)} at ${providerName(a.provider)}: details`}>
                {actionName(a.action)} · {providerName(a.provider)}
              </Link>
              {a.undoOf && <span class="tag">undo</span>}
            </td>
            <td data-label="Account">
              <button
                type="button"
                class="link"
                onClick={() => openPanel({ provider: a.provider, account: a.account, accountId: a.accountId })}
              >
                {a.account}
              </button>
            </td>
            <td data-label="By">{a.requestedBy}</td>
            {props.outcome ? (
              <td data-label="Outcome" class="reason">
                {a.outcome ?? (isFinished(a.status) ? '' : 'under way…')}
              </td>
            ) : (
              <td data-label="Reason" class="reason">
                {a.reason}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const FILTERS = ['status', 'type', 'provider', 'target', 'requestedBy', 'createdAfter', 'createdBefore', 'bulkId'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

function filtersOf(params: URLSearchParams): Filters {
  const out = {} as Filters;
  for (const key of FILTERS) out[key] = params.get(key) ?? '';
  return out;
}

export function ActionCenter({ params }: { params: URLSearchParams }) {
  const applied = filtersOf(params);
  const cursor = params.get('cursor') ?? '';
  const appliedKey = params.toString();
  const [form, setForm] = useState<Filters>(applied);
  const [page, setPage] = useState<Page<Action> | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Open on a wide screen; in a narrow window the list comes first.
  const [wide, setWide] = useState(() => window.matchMedia('(min-width: 721px)').matches);

  useEffect(() => setForm(filtersOf(new URLSearchParams(appliedKey))), [appliedKey]);

  const load = useCallback(async () => {
    try {
      setPage(await get<Page<Action>>(`/api/v1/actions${query({ ...applied, cursor, limit: String(PAGE_SIZE) })}`));
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  }, [appliedKey]);

  useEffect(() => {
    setPage(null);
    void load();
  }, [load]);
  usePoll(!!page && page.value.some((a) => !isFinished(a.status)), load);

  const go = (filters: Filters, nextCursor = '') =>
    navigate(`/console/actions${query({ ...filters, cursor: nextCursor })}`);
  const set = (key: keyof Filters) => (e: Event) =>
    setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  const exportHref = `/api/v1/actions/export${query(applied)}`;
  const filtered = FILTERS.some((k) => applied[k]);

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Action center</h1>
        <a class="button" href={exportHref} download="cordon-actions.csv">
          Export CSV
        </a>
      </div>
      <details class="filters-box" open={wide} onToggle={(e) => setWide((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>
          Filters{filtered ? ` (${FILTERS.filter((k) => applied[k]).length} applied)` : ''}
        </summary>
      <form
        class="filters"
        aria-label="Filter actions"
        onSubmit={(e) => {
          e.preventDefault();
          go(form);
        }}
      >
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={form.status} onChange={set('status')}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option value={s} key={s}>
                {statusName(s)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-type">Action</label>
          <select id="f-type" value={form.type} onChange={set('type')}>
            <option value="">Any</option>
            {ACTIONS.map((a) => (
              <option value={a} key={a}>
                {actionName(a)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-provider">Provider</label>
          <select id="f-provider" value={form.provider} onChange={set('provider')}>
            <option value="">Any</option>
            {PROVIDERS.map((p) => (
              <option value={p} key={p}>
                {providerName(p)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-target">Account</label>
          <input id="f-target" value={form.target} onInput={set('target')} autocomplete="off" />
        </div>
        <div class="field">
          <label for="f-by">Requested by</label>
          <input id="f-by" value={form.requestedBy} onInput={set('requestedBy')} autocomplete="off" />
        </div>
        <div class="field">
          <label for="f-after">From</label>
          <input
            id="f-after"
            type="datetime-local"
            value={toLocalInput(form.createdAfter)}
            onInput={(e) => setForm({ ...form, createdAfter: toUtc((e.currentTarget as HTMLInputElement).value) })}
          />
        </div>
        <div class="field">
          <label for="f-before">To</label>
          <input
            id="f-before"
            type="datetime-local"
            value={toLocalInput(form.createdBefore)}
            onInput={(e) => setForm({ ...form, createdBefore: toUtc((e.currentTarget as HTMLInputElement).value) })}
          />
        </div>
        <div class="field">
          <label for="f-bulk">Bulk id</label>
          <input id="f-bulk" value={form.bulkId} onInput={set('bulkId')} autocomplete="off" />
        </div>
        <div class="buttons">
          <button type="submit" class="primary">
            Apply filters
          </button>
          {filtered && (
            <button type="button" onClick={() => go(filtersOf(new URLSearchParams()))}>
              Clear
            </button>
          )}
        </div>
      </form>
      </details>
      <ErrorBox message={error} />
      {!page && !error && <Loading what="actions" />}
      {page && page.value.length === 0 && (
        <p class="empty">{filtered ? 'No action matches these filters.' : 'No action has been asked for yet.'}</p>
      )}
      {page && <ActionTable actions={page.value} caption="Actions, newest first" />}
      {page && (cursor || page.nextCursor) && (
        <nav class="pager" aria-label="Pages">
          {cursor && (
            <button type="button" onClick={() => go(applied)}>
              ← Newest
            </button>
          )}
          {page.nextCursor && (
            <button type="button" onClick={() => go(applied, page.nextCursor!)}>
              Older →
            </button>
          )}
        </nav>
      )}
    </>
  );
}

function Field({ label, children }: { label: string; children: preact.ComponentChildren }) {
  if (children === null || children === undefined || children === '' || children === false) return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

export function ActionDetails({ id }: { id: string }) {
  const { me, openPanel } = useServices();
  const [action, setAction] = useState<ActionDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<'cancel' | 'undo' | null>(null);

  const load = useCallback(async () => {
    try {
      setAction(await get<ActionDetail>(`/api/v1/actions/${encodeURIComponent(id)}`));
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  }, [id]);
  useEffect(() => {
    setAction(null);
    void load();
  }, [load]);
  usePoll(!!action && !isFinished(action.status), load);

  if (!action)
    return (
      <>
        <h1 tabIndex={-1}>Action</h1>
        <ErrorBox message={error} />
        {!error && <Loading what="the action" />}
      </>
    );

  const cancellable = action.status === 'pending' || action.status === 'awaiting_approval';
  const undoable = action.status === 'succeeded' && !!action.undo && !action.undoneBy && !action.alreadyInState;
  const mayCancel = mayRun(me, action.provider, action.action);
  const mayUndo = !!action.undo && mayRun(me, action.provider, action.undo.action);

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>
          {actionName(action.action)} {action.account} · {providerName(action.provider)}
        </h1>
        <span aria-live="polite">
          <StatusBadge status={action.status} />
        </span>
      </div>
      <ErrorBox message={error} />
      <div class="toolbar">
        <button
          type="button"
          onClick={() => openPanel({ provider: action.provider, account: action.account, accountId: action.accountId })}
        >
          Show the person
        </button>
        {cancellable && (
          <button type="button" disabled={!mayCancel} onClick={() => setDialog('cancel')}>
            Cancel…
          </button>
        )}
        {undoable && (
          <button type="button" class="danger" disabled={!mayUndo} onClick={() => setDialog('undo')}>
            Undo…
          </button>
        )}
        {cancellable && !mayCancel && <span class="why">Your role ({me.role}) may not cancel this action.</span>}
        {undoable && !mayUndo && (
          <span class="why">
            Your role ({me.role}) may not {actionName(action.undo!.action).toLowerCase()} at {providerName(action.provider)}.
          </span>
        )}
      </div>
      {action.status === 'succeeded' && !action.undo && <p class="irreversible">This action cannot be undone.</p>}
      {action.undo?.limits && <p class="limits">Its undo does not restore everything: {action.undo.limits}</p>}
      <dl class="details">
        <Field label="Outcome">{action.outcome}</Field>
        <Field label="Account">{action.resolvedAccount ? `${action.account} (${action.resolvedAccount})` : action.account}</Field>
        <Field label="Immutable id">{action.accountId}</Field>
        <Field label="Before">{action.priorState}</Field>
        <Field label="Reason">{action.reason}</Field>
        <Field label="Requested by">{action.requestedBy}</Field>
        <Field label="Requested at">{localTime(action.createdAt)}</Field>
        <Field label="Updated at">{localTime(action.updatedAt)}</Field>
        <Field label="Attempts">{`${action.attemptCount} of ${action.maxAttempts}`}</Field>
        <Field label="Next attempt">{localTime(action.nextAttemptAt)}</Field>
        <Field label="Provider's answer">
          {action.providerAnswer && `${action.providerAnswer.code}: ${action.providerAnswer.detail}`}
        </Field>
        <Field label="Cordon's risk level">{action.riskLevel}</Field>
        <Field label="Undo of">{action.undoOf && <Link href={actionHref(action.undoOf)}>{action.undoOf}</Link>}</Field>
        <Field label="Undone by">
          {action.undoneBy && <Link href={actionHref(action.undoneBy)}>{action.undoneBy}</Link>}
        </Field>
        <Field label="Bulk">
          {action.bulkId && <Link href={`/console/actions${query({ bulkId: action.bulkId })}`}>{action.bulkId}</Link>}
        </Field>
        <Field label="Linked actions">
          {action.linkedActions.length > 0 && (
            <ul class="plain">
              {action.linkedActions.map((l) => (
                <li key={l}>
                  <Link href={actionHref(l)}>{l}</Link>
                </li>
              ))}
            </ul>
          )}
        </Field>
        <Field label="Id">{action.id}</Field>
      </dl>

      <h2>Attempts</h2>
      {action.attempts.length === 0 ? (
        <p class="empty">No attempt yet.</p>
      ) : (
        <table class="attempts">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Result</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
              <th scope="col">What happened</th>
              <th scope="col">Provider's code and words</th>
            </tr>
          </thead>
          <tbody>
            {action.attempts.map((t) => (
              <tr key={t.number}>
                <td data-label="#">{t.number}</td>
                <td data-label="Result">{t.result}</td>
                <td data-label="Started" class="time">
                  {localTime(t.startedAt)}
                </td>
                <td data-label="Finished" class="time">
                  {localTime(t.finishedAt)}
                </td>
                <td data-label="What happened">{t.message}</td>
                <td data-label="Provider">
                  {t.providerAnswer && (
                    <>
                      <code>{t.providerAnswer.code}</code> {t.providerAnswer.detail}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Audit</h2>
      <ol class="audit">
        {action.audit.map((e) => (
          <li key={e.seq}>
            <span class="when">{localTime(e.at)}</span> <strong>{e.event}</strong>
            {e.toStatus && ` → ${statusName(e.toStatus)}`} by {e.actor}
            {e.reason && <span class="reason"> · “{e.reason}”</span>}
            {e.detail && <span class="detail"> · {e.detail}</span>}
          </li>
        ))}
      </ol>

      {dialog === 'cancel' && (
        <CancelDialog action={action} onClose={() => setDialog(null)} onDone={(a) => { setDialog(null); setAction({ ...action, ...a }); void load(); }} />
      )}
      {dialog === 'undo' && (
        <UndoDialog action={action} onClose={() => setDialog(null)} onDone={(a) => { setDialog(null); navigate(actionHref(a.id)); }} />
      )}
    </>
  );
}
