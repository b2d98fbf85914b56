// Words and times as the console shows them.
import type { ActionStatus, Provider } from './types';

export const PROVIDERS: Provider[] = ['ad', 'entra', 'okta'];
const PROVIDER_NAMES: Record<string, string> = { ad: 'Active Directory', entra: 'Entra ID', okta: 'Okta' };

export const ACTIONS = [
  'disable',
  'enable',
  'force_password_reset',
  'clear_password_reset',
  'suspend',
  'unsuspend',
  'deactivate',
  'activate',
  'revoke_sessions',
  'mark_compromised',
  'dismiss_risk',
];
const ACTION_NAMES: Record<string, string> = {
  disable: 'Disable',
  enable: 'Enable',
  force_password_reset: 'Force password reset',
  clear_password_reset: 'Clear password reset',
  suspend: 'Suspend',
  unsuspend: 'Unsuspend',
  deactivate: 'Deactivate',
  activate: 'Activate',
  revoke_sessions: 'Revoke sessions',
  mark_compromised: 'Mark compromised',
  dismiss_risk: 'Dismiss risk',
};

export const STATUSES: ActionStatus[] = [
  'awaiting_approval',
  'pending',
  'in_progress',
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
];
const STATUS_NAMES: Record<string, string> = {
  awaiting_approval: 'Awaiting approval',
  pending: 'Pending',
  in_progress: 'In progress',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
};

export const providerName = (p: string) => PROVIDER_NAMES[p] ?? p;
export const actionName = (a: string) => ACTION_NAMES[a] ?? a;
export const statusName = (s: string) => STATUS_NAMES[s] ?? s;

const pad = (n: number) => String(n).padStart(2, '0');

// Local time, to the second, in one fixed shape; the UTC time is in `title`.
export function localTime(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "datetime-local" input value <-> RFC 3339 UTC.
export function toUtc(local: string): string {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
export function toLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
