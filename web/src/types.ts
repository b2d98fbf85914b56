// The JSON shapes the console reads (src/api/README.md and the identities'
// REST contract): camelCase, times RFC 3339 UTC, null where a field does not apply.

export type Provider = 'ad' | 'entra' | 'okta';
export type ActionStatus =
  | 'awaiting_approval'
  | 'pending'
  | 'in_progress'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'rejected';

export interface Me {
  name: string;
  tokenId: string;
  role: string;
  may: { provider: Provider; action: string }[];
  providers: Provider[];
}

export interface ProviderAnswer {
  code: string;
  detail: string;
}

export interface Action {
  id: string;
  action: string;
  provider: Provider;
  account: string;
  reason: string;
  status: ActionStatus;
  requestedBy: string;
  createdAt: string | null;
  updatedAt: string | null;
  attemptCount: number;
  maxAttempts: number;
  nextAttemptAt: string | null;
  undoOf: string | null;
  undoneBy: string | null;
  bulkId: string | null;
  outcome: string | null;
  resolvedAccount: string | null;
  accountId: string | null;
  priorState: string | null;
  alreadyInState: boolean;
  providerAnswer: ProviderAnswer | null;
  undo: { action: string; limits: string | null } | null;
  linkedActions: string[];
  riskLevel: string | null;
  notes?: string[];
}

export interface Attempt {
  number: number;
  worker: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: string;
  message: string;
  providerAnswer: ProviderAnswer | null;
}

export interface AuditEvent {
  seq: number;
  at: string | null;
  actor: string;
  event: string;
  fromStatus: string | null;
  toStatus: string | null;
  reason: string;
  detail: string;
}

export interface ActionDetail extends Action {
  attempts: Attempt[];
  audit: AuditEvent[];
}

export interface Page<T> {
  value: T[];
  nextCursor: string | null;
}

export interface AccountSummary {
  provider: Provider;
  id: string;
  login: string;
  displayName: string;
  status: string;
  providerStatus: string | null;
}

export interface IdentitySummary {
  id: string;
  displayName: string;
  domain: string;
  riskLevel: string | null;
  accounts: AccountSummary[];
}

export interface AccountAction {
  action: string;
  allowed: boolean;
  why: string | null;
  applicable: boolean;
  warnings: string[];
  alsoOnPrem: boolean;
  undo: { action: string; limits: string | null } | null;
  summary: string;
}

export interface Account extends AccountSummary {
  upn: string;
  sid: string;
  mail: string;
  mustChangePassword: boolean;
  providerRisk: string | null;
  riskLevel: string | null;
  adminProtected: boolean;
  syncedFromAd: boolean;
  guest: boolean;
  identifiers: Record<string, string>;
  seenAt: string | null;
  actions: AccountAction[];
}

export interface Identity {
  id: string;
  displayName: string;
  domain: string;
  riskLevel: string | null;
  accounts: Account[];
  recentActions: Action[];
}

export const FINISHED: readonly ActionStatus[] = ['succeeded', 'failed', 'cancelled', 'rejected'];

export function isFinished(status: ActionStatus): boolean {
  return FINISHED.includes(status);
}
