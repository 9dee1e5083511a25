/** The audit log: every mutating call, newest first, paged by the server. */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import type { AuditResponse } from './api.js';
import { formatCount, formatDuration, formatTime } from './format.js';
import { Loaded } from './ui.js';
import type { Load } from './ui.js';

const actions = ['', 'redrive', 'purge'] as const;

export function Audit() {
  const [action, setAction] = useState('');
  const [tokens, setTokens] = useState<string[]>(['']);
  const [pageIndex, setPageIndex] = useState(0);
  const [load, setLoad] = useState<Load<AuditResponse>>({ state: 'loading' });
  const [version, setVersion] = useState(0);

  useEffect(() => {
    setTokens(['']);
    setPageIndex(0);
  }, [action]);

  const token = tokens[pageIndex] ?? '';
  useEffect(() => {
    let current = true;
    api.audit({ action }, token).then(
      (value) => {
        if (!current) return;
        setLoad({ state: 'ok', value });
        if (value.nextPageToken !== '') setTokens((known) => [...known.slice(0, pageIndex + 1), value.nextPageToken]);
      },
      (error: unknown) => { if (current) setLoad({ state: 'failed', error }); },
    );
    return () => { current = false; };
  }, [action, token, version]);

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <div class="row">
        <label>
          Action{' '}
          <select value={action} onChange={(event) => { setAction(event.currentTarget.value); }}>
            {actions.map((name) => <option key={name} value={name}>{name === '' ? 'all' : name}</option>)}
          </select>
        </label>
        <button type="button" onClick={() => { setVersion(version + 1); }}>Refresh</button>
      </div>
      <Loaded load={load} what="the audit log">
        {(page) =>
          page.entries.length === 0 ? (
            <p data-testid="audit-empty">No admin actions recorded{action === '' ? '' : ` for ${action}`}.</p>
          ) : (
            <>
              <table data-testid="audit">
                <caption class="visually-hidden">Audit log, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">Queue</th>
                    <th scope="col">Which records</th>
                    <th scope="col" class="num">Records</th>
                    <th scope="col" class="num">Skipped</th>
                    <th scope="col">Outcome</th>
                    <th scope="col" class="num">Took</th>
                  </tr>
                </thead>
                <tbody>
                  {page.entries.map((entry) => (
                    <tr key={entry.id} data-testid="audit-row" data-action={entry.action} data-dry-run={String(entry.dryRun)}>
                      <td class="nowrap">{formatTime(entry.timeMs)}</td>
                      <td>{entry.actor}</td>
                      <td>{entry.action}{entry.dryRun ? ' (dry run)' : ''}</td>
                      <td class="mono">{entry.topic === '' ? '—' : `${entry.topic} / ${entry.subscription}`}</td>
                      <td class="mono">{entry.selection}</td>
                      <td class="num">{formatCount(entry.recordCount)}</td>
                      <td class="num">{formatCount(entry.skipped)}</td>
                      <td class={entry.outcome === 'ok' ? 'ok' : entry.outcome.startsWith('failed') ? 'bad' : ''}>{entry.outcome}</td>
                      <td class="num">{entry.finishedAtMs === 0 ? '—' : formatDuration(entry.finishedAtMs - entry.timeMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <nav class="row pager" aria-label="Pages">
                <button type="button" disabled={pageIndex === 0} onClick={() => { setPageIndex(pageIndex - 1); }}>‹ Newer</button>
                <span>Page {pageIndex + 1}</span>
                <button type="button" disabled={page.nextPageToken === ''} onClick={() => { setPageIndex(pageIndex + 1); }}>Older ›</button>
              </nav>
            </>
          )
        }
      </Loaded>
    </section>
  );
}
