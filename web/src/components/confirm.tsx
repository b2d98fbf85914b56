// Every change is confirmed first: what will happen where, whether and how it
// can be undone, and a reason that the action center records.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

import { describe, post } from '../api';
import { actionName, providerName } from '../format';
import type { Action } from '../types';
import { ConfirmRequest, ErrorBox, Modal, mayRun, useServices } from './common';

const MAX_REASON_BYTES = 1024;

function ReasonField(props: { value: string; onInput: (v: string) => void; hint: string }) {
  return (
    <div class="field">
      <label for="reason">Reason (recorded with the action)</label>
      <textarea
        id="reason"
        data-autofocus
        aria-required="true"
        rows={3}
        maxLength={MAX_REASON_BYTES}
        placeholder={props.hint}
        value={props.value}
        onInput={(e) => props.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
    </div>
  );
}

// A dialog with a reason and one button that does the thing.
function ReasonDialog(props: {
  title: string;
  verb: string;
  danger: boolean;
  onClose: () => void;
  submit: (reason: string) => Promise<void>;
  children: ComponentChildren;
}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!reason.trim()) {
      setError('Give a reason: it is recorded with the action and shown in the action center.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await props.submit(reason.trim());
    } catch (e) {
      setError(describe(e));
      setBusy(false);
    }
  };
  return (
    <Modal labelledBy="confirm-title" class="dialog" onClose={props.onClose}>
      <form onSubmit={onSubmit} method="post" action="">
        <h2 id="confirm-title">{props.title}</h2>
        {props.children}
        <ReasonField
          value={reason}
          onInput={(v) => {
            setReason(v);
            if (v.trim()) setError(null);
          }}
          hint="e.g. phishing: INC-1234"
        />
        <ErrorBox message={error} />
        <div class="buttons">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={busy}>
            {busy ? 'Submitting…' : props.verb}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function UndoLine({ undo }: { undo: Action['undo'] }) {
  if (!undo) return <p class="irreversible">This cannot be undone.</p>;
  return (
    <p>
      Can be undone later ({actionName(undo.action)}).
      {undo.limits && <span class="limits"> The undo does not restore everything: {undo.limits}</span>}
    </p>
  );
}

export function ConfirmAction({ request, onClose }: { request: ConfirmRequest; onClose: () => void }) {
  const { me } = useServices();
  const { account, action } = request;
  const name = account.login || account.id;
  const mayAlsoOnPrem = mayRun(me, 'ad', 'disable');
  const [alsoOnPrem, setAlsoOnPrem] = useState(action.alsoOnPrem && mayAlsoOnPrem);
  const title = `${actionName(action.action)} ${name} in ${providerName(account.provider)}?`;
  return (
    <ReasonDialog
      title={title}
      verb={`${actionName(action.action)} ${name}`}
      danger
      onClose={onClose}
      submit={async (reason) => {
        const body: Record<string, unknown> = { action: action.action, provider: account.provider, account: name, reason };
        if (alsoOnPrem) body.alsoOnPrem = true;
        const created = await post<Action>('/api/v1/actions', body);
        request.onSubmitted(created);
        onClose();
      }}
    >
      <p class="summary">{action.summary}</p>
      {!action.applicable && (
        <p class="note">Cordon last saw this account already in that state: the action would change nothing.</p>
      )}
      {action.warnings.length > 0 && (
        <ul class="warnings">
          {action.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      {action.alsoOnPrem && (
        <div class="field checkbox">
          <input
            id="also-on-prem"
            type="checkbox"
            checked={alsoOnPrem}
            disabled={!mayAlsoOnPrem}
            onChange={(e) => setAlsoOnPrem((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="also-on-prem">
            Also disable the person's Active Directory account, so the next directory sync does not undo this
            {!mayAlsoOnPrem && ` (your role, ${me.role}, may not disable at Active Directory)`}
          </label>
        </div>
      )}
      <UndoLine undo={action.undo} />
    </ReasonDialog>
  );
}

export function CancelDialog(props: { action: Action; onClose: () => void; onDone: (a: Action) => void }) {
  const { action } = props;
  return (
    <ReasonDialog
      title={`Cancel ${actionName(action.action).toLowerCase()} of ${action.account}?`}
      verb="Cancel the action"
      danger={false}
      onClose={props.onClose}
      submit={async (reason) => {
        props.onDone(await post<Action>(`/api/v1/actions/${encodeURIComponent(action.id)}/cancel`, { reason }));
      }}
    >
      <p class="summary">
        The action has not run yet; once cancelled, Cordon will not carry it out at {providerName(action.provider)}.
      </p>
    </ReasonDialog>
  );
}

export function UndoDialog(props: { action: Action; onClose: () => void; onDone: (a: Action) => void }) {
  const { action } = props;
  const undo = action.undo!;
  return (
    <ReasonDialog
      title={`Undo ${actionName(action.action).toLowerCase()} of ${action.account}?`}
      verb={`${actionName(undo.action)} ${action.account}`}
      danger
      onClose={props.onClose}
      submit={async (reason) => {
        props.onDone(await post<Action>(`/api/v1/actions/${encodeURIComponent(action.id)}/undo`, { reason }));
      }}
    >
      <p class="summary">
        Cordon will {actionName(undo.action).toLowerCase()} {action.resolvedAccount || action.account} at{' '}
        {providerName(action.provider)}, the same account the action changed (by its immutable id).
      </p>
      {undo.limits ? (
        <p class="limits">The undo does not restore everything: {undo.limits}</p>
      ) : (
        action.priorState && <p>It puts back what Cordon found before the action: {action.priorState}.</p>
      )}
      {action.linkedActions.length > 0 && (
        <p class="note">The actions linked to this one ({action.linkedActions.length}) are undone with it.</p>
      )}
    </ReasonDialog>
  );
}
