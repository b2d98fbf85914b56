// Small pieces every page uses: links the app follows itself, status badges,
// error and loading states, the modal (focus kept inside, Esc closes, focus
// given back), and the app's shared services.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef } from 'preact/hooks';

import { follow } from '../nav';
import { statusName } from '../format';
import type { Account, AccountAction, Action, Identity, Me, Provider } from '../types';

// What the side panel shows: an identity, or the person behind an account
// named by an action.
export type PanelTarget =
  | { identityId: string }
  | { provider: Provider; account: string; accountId: string | null };

export interface ConfirmRequest {
  identity: Identity;
  account: Account;
  action: AccountAction;
  onSubmitted: (created: Action) => void;
}

export interface Services {
  me: Me;
  openPanel: (target: PanelTarget) => void;
  confirm: (request: ConfirmRequest) => void;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('no services');
  return services;
}

export function mayRun(me: Me, provider: string, action: string): boolean {
  return me.may.some((m) => m.provider === provider && m.action === action);
}

export function Link(props: {
  href: string;
  class?: string;
  children: ComponentChildren;
  label?: string;
  current?: boolean;
}) {
  return (
    <a
      href={props.href}
      class={props.class}
      aria-label={props.label}
      aria-current={props.current ? 'page' : undefined}
      onClick={(e) => follow(e, props.href)}
    >
      {props.children}
    </a>
  );
}

const STATUS_MARKS: Record<string, string> = {
  awaiting_approval: '…',
  pending: '◷',
  in_progress: '↻',
  succeeded: '✓',
  failed: '✕',
  cancelled: '–',
  rejected: '✕',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`status status-${status}`}>
      <span aria-hidden="true">{STATUS_MARKS[status] ?? '•'} </span>
      {statusName(status)}
    </span>
  );
}

export function ErrorBox({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

// Open modals, innermost last: only it answers Esc and keeps Tab inside.
const stack: HTMLElement[] = [];
export const modalOpen = () => stack.length > 0;

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Modal(props: {
  labelledBy: string;
  class: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;

  useEffect(() => {
    const element = ref.current!;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    stack.push(element);
    const first = element.querySelector<HTMLElement>('[data-autofocus]') ?? element.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? element).focus();
    const onKey = (event: KeyboardEvent) => {
      if (stack[stack.length - 1] !== element) return;
      if (event.key === 'Escape') {
        event.preventDefault();
        onClose.current();
      } else if (event.key === 'Tab') {
        const items = Array.from(element.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((e) => e.offsetParent !== null);
        if (items.length === 0) {
          event.preventDefault();
          return;
        }
        const at = items.indexOf(document.activeElement as HTMLElement);
        if (event.shiftKey && (at <= 0 || !element.contains(document.activeElement))) {
          event.preventDefault();
          items[items.length - 1].focus();
        } else if (!event.shiftKey && (at === items.length - 1 || !element.contains(document.activeElement))) {
          event.preventDefault();
          items[0].focus();
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      stack.splice(stack.indexOf(element), 1);
      if (opener && opener.isConnected) opener.focus();
      else document.querySelector<HTMLElement>('main h1')?.focus();
    };
  }, []);

  return (
    <div class="backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div ref={ref} class={props.class} role="dialog" aria-modal="true" aria-labelledby={props.labelledBy} tabIndex={-1}>
        {props.children}
      </div>
    </div>
  );
}
