// People search: results as you type (debounced), arrows and Enter to pick,
// Enter opens the side panel. `/` anywhere focuses it (main.tsx).
import { useEffect, useRef, useState } from 'preact/hooks';

import { describe, get, query } from '../api';
import { providerName } from '../format';
import type { IdentitySummary, Page } from '../types';
import { useServices } from './common';

const DEBOUNCE_MS = 200;

export function Search() {
  const { openPanel } = useServices();
  const [text, setText] = useState('');
  const [results, setResults] = useState<IdentitySummary[] | null>(null);
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);

  useEffect(() => {
    const q = text.trim();
    if (!q) {
      setResults(null);
      setError(null);
      return;
    }
    const ticket = ++asked.current;
    const timer = window.setTimeout(async () => {
      try {
        const page = await get<Page<IdentitySummary>>(`/api/v1/identities${query({ q, limit: '8' })}`);
        if (ticket !== asked.current) return;
        setResults(page.value);
        setError(null);
        setActive(page.value.length > 0 ? 0 : -1);
      } catch (e) {
        if (ticket !== asked.current) return;
        setResults([]);
        setError(describe(e));
      }
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [text]);

  const choose = (identity: IdentitySummary) => {
    setOpen(false);
    openPanel({ identityId: identity.id });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const count = results?.length ?? 0;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setOpen(true);
      if (count) setActive((a) => (a + 1) % count);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(true);
      if (count) setActive((a) => (a <= 0 ? count - 1 : a - 1));
    } else if (event.key === 'Enter') {
      if (results && active >= 0 && active < results.length) {
        event.preventDefault();
        choose(results[active]);
      }
    } else if (event.key === 'Escape') {
      if (open && text) {
        event.preventDefault();
        setOpen(false);
      } else {
        (event.currentTarget as HTMLInputElement).blur();
      }
    }
  };

  const showList = open && text.trim() !== '' && results !== null;
  return (
    <div class="search" role="search">
      <label for="search" class="visually-hidden">
        Search people by name, UPN, SID or provider id
      </label>
      <input
        id="search"
        type="search"
        role="combobox"
        autocomplete="off"
        spellcheck={false}
        placeholder="Search people: name, UPN, SID, id   (press /)"
        aria-autocomplete="list"
        aria-expanded={showList}
        aria-controls="search-results"
        aria-activedescendant={showList && active >= 0 ? `search-option-${active}` : undefined}
        value={text}
        onInput={(e) => {
          setText((e.currentTarget as HTMLInputElement).value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      {showList && (
        <ul id="search-results" role="listbox" aria-label="People">
          {error && (
            <li class="search-empty" role="option" aria-selected={false} aria-disabled="true">
              {error}
            </li>
          )}
          {!error && results!.length === 0 && (
            <li class="search-empty" role="option" aria-selected={false} aria-disabled="true">
              No one matches “{text.trim()}”.
            </li>
          )}
          {results!.map((r, i) => (
            <li
              key={r.id}
              id={`search-option-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? 'active' : undefined}
              onMouseDown={(e) => e.preventDefault()}
              onMouseEnter={() => setActive(i)}
              onClick={() => choose(r)}
            >
              <span class="result-name">
                {r.displayName}
                {r.riskLevel === 'high' && <span class="risk-tag">High risk</span>}
              </span>
              <span class="result-accounts">
                {r.accounts.map((a) => (
                  <span class={`chip state-${a.status}`} key={`${a.provider}:${a.id}`}>
                    {providerName(a.provider)} · {a.login || a.id} · {a.providerStatus ?? a.status}
                  </span>
                ))}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
