/**
 * One queue's records: a filter form (filtered server-side, the filter
 * kept in the URL), one page at a time with the total of matches (the
 * server pages with tokens, so 100,000 records cost no more than 50), and
 * redrive/purge of the checked rows or of everything matching.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from './api.js';
import type { FilterInput, RecordsResponse, SelectionInput } from './api.js';
import { BulkActions } from './bulk-actions.js';
import type { BulkOutcome } from './bulk-actions.js';
import { formatCount, formatTime, fromLocalInput, keyText, toLocalInput } from './format.js';
import { href, navigate } from './route.js';
import { Loaded, Notice } from './ui.js';
import type { Load } from './ui.js';

const pageSizes = [25, 50, 100, 200] as const;

interface Draft {
  errorClass: string;
  reason: string;
  key: string;
  from: string;
  to: string;
  minAttempts: string;
  valueContains: string;
}

function draftOf(filter: FilterInput): Draft {
  return {
    errorClass: filter.errorClass ?? '',
    reason: filter.reason ?? '',
    key: filter.key ?? '',
    from: toLocalInput(filter.fromTimeMs),
    to: toLocalInput(filter.toTimeMs),
    minAttempts: filter.minAttempts === undefined ? '' : String(filter.minAttempts),
    valueContains: filter.valueContains ?? '',
  };
}

function filterOf(draft: Draft): FilterInput {
  const filter: FilterInput = {};
  if (draft.errorClass !== '') filter.errorClass = draft.errorClass;
  if (draft.reason !== '') filter.reason = draft.reason;
  if (draft.key !== '') filter.key = draft.key;
  const from = fromLocalInput(draft.from);
  if (from !== undefined) filter.fromTimeMs = from;
  const to = fromLocalInput(draft.to);
  if (to !== undefined) filter.toTimeMs = to;
  if (draft.minAttempts !== '' && Number(draft.minAttempts) > 0) filter.minAttempts = Number(draft.minAttempts);
  if (draft.valueContains !== '') filter.valueContains = draft.valueContains;
  return filter;
}

const refId = (partition: number, offset: number): string => `${partition}/${offset}`;

export function Records(props: { topic: string; subscription: string; filter: FilterInput }) {
  const { topic, subscription, filter } = props;
  const filterKey = JSON.stringify(filter);
  const [draft, setDraft] = useState<Draft>(() => draftOf(filter));
  const [pageSize, setPageSize] = useState<number>(50);
  /** Tokens of the pages seen so far: `tokens[i]` fetches page i. */
  const [tokens, setTokens] = useState<string[]>(['']);
  const [pageIndex, setPageIndex] = useState(0);
  const [load, setLoad] = useState<Load<RecordsResponse>>({ state: 'loading' });
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [version, setVersion] = useState(0);
  // The last redrive or purge's outcome, kept here: the list reloads after
  // it, and the actions go away when nothing matches any more.
  const [outcome, setOutcome] = useState<BulkOutcome | undefined>(undefined);

  // A new queue or filter starts from page 1 with nothing checked.
  useEffect(() => {
    setDraft(draftOf(filter));
    setTokens(['']);
    setPageIndex(0);
    setSelected(new Set());
  }, [topic, subscription, filterKey, pageSize]);

  const token = tokens[pageIndex] ?? '';
  useEffect(() => {
    const abort = new AbortController();
    setLoad((previous) => (previous.state === 'ok' ? previous : { state: 'loading' }));
    api.records(topic, subscription, filter, pageSize, token, abort.signal).then(
      (value) => {
        setLoad({ state: 'ok', value });
        if (value.nextPageToken !== '') setTokens((known) => [...known.slice(0, pageIndex + 1), value.nextPageToken]);
      },
      (error: unknown) => { if (!abort.signal.aborted) setLoad({ state: 'failed', error }); },
    );
    return () => { abort.abort(); };
  }, [topic, subscription, filterKey, pageSize, token, version]);

  const apply = (event: Event): void => {
    event.preventDefault();
    navigate({ page: 'records', topic, subscription, filter: filterOf(draft) });
  };
  const field = (name: keyof Draft) => ({
    value: draft[name],
    onInput: (event: { currentTarget: HTMLInputElement }) => { setDraft({ ...draft, [name]: event.currentTarget.value }); },
  });

  const total = load.state === 'ok' ? load.value.totalMatching : 0;
  const selection: SelectionInput = useMemo(() => {
    if (selected.size > 0) {
      return { refs: [...selected].map((id) => { const [p = '0', o = '0'] = id.split('/'); return { dlqPartition: Number(p), dlqOffset: Number(o) }; }) };
    }
    return Object.keys(filter).length === 0 ? { all: true } : { filter };
  }, [selected, filterKey]);
  const describe =
    selected.size > 0
      ? `${formatCount(selected.size)} checked record${selected.size === 1 ? '' : 's'}`
      : Object.keys(filter).length === 0
        ? `all ${formatCount(total)} records`
        : `all ${formatCount(total)} matching records`;

  const toggle = (id: string): void => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  return (
    <section aria-labelledby="records-title">
      <p class="crumbs">
        <a href={href({ page: 'overview' })}>Queues</a> › {topic}
      </p>
      <h1 id="records-title">
        Dead letters of <span class="mono">{subscription}</span> on <span class="mono">{topic}</span>
      </h1>
      <form class="filters" onSubmit={apply} aria-label="Filter records" data-testid="filters">
        <label>
          Error class <input name="errorClass" {...field('errorClass')} placeholder="e.g. TimeoutError" />
        </label>
        <label>
          Reason contains <input name="reason" {...field('reason')} />
        </label>
        <label>
          Key <input name="key" {...field('key')} />
        </label>
        <label>
          Value contains <input name="valueContains" {...field('valueContains')} />
        </label>
        <label>
          Dead-lettered from <input name="from" type="datetime-local" step="1" {...field('from')} />
        </label>
        <label>
          to <input name="to" type="datetime-local" step="1" {...field('to')} />
        </label>
        <label>
          Min attempts <input name="minAttempts" type="number" min="0" class="narrow" {...field('minAttempts')} />
        </label>
        <div class="row">
          <button type="submit" class="primary">
            Apply filter
          </button>
          <button type="button" onClick={() => { navigate({ page: 'records', topic, subscription, filter: {} }); }}>
            Clear
          </button>
        </div>
      </form>

      {outcome ? (
        <Notice kind={outcome.kind} testId="bulk-result">
          {outcome.message}
        </Notice>
      ) : null}
      <Loaded load={load} what="records">
        {(page) => (
          <>
            <p data-testid="total-matching" aria-live="polite">
              {formatCount(page.totalMatching)} record{page.totalMatching === 1 ? '' : 's'} {Object.keys(filter).length === 0 ? 'in the queue' : 'match the filter'}
            </p>
            {page.totalMatching === 0 ? null : (
              <BulkActions topic={topic} subscription={subscription} selection={selection} describe={describe} onChanged={(result) => { setOutcome(result); setSelected(new Set()); setVersion(version + 1); }} />
            )}
            <table data-testid="records">
              <caption class="visually-hidden">Dead-lettered records, page {pageIndex + 1}</caption>
              <thead>
                <tr>
                  <th scope="col"><span class="visually-hidden">Select</span></th>
                  <th scope="col">Record</th>
                  <th scope="col">Key</th>
                  <th scope="col">Error class</th>
                  <th scope="col">Last reason</th>
                  <th scope="col" class="num">Attempts</th>
                  <th scope="col" class="num">Redrives</th>
                  <th scope="col">Dead-lettered</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {page.records.map((record) => {
                  const id = refId(record.dlqPartition, record.dlqOffset);
                  return (
                    <tr key={id} data-testid="record-row" data-ref={id}>
                      <td>
                        <input type="checkbox" aria-label={`select record ${id}`} checked={selected.has(id)} onChange={() => { toggle(id); }} />
                      </td>
                      <td>
                        <a href={href({ page: 'record', topic, subscription, partition: record.dlqPartition, offset: record.dlqOffset })} data-testid="record-link">
                          {id}
                        </a>
                      </td>
                      <td class="mono">{keyText(record.origin.key)}</td>
                      <td>{record.lastAttempt?.errorClass ?? ''}</td>
                      <td>{record.lastAttempt?.reason ?? ''}</td>
                      <td class="num">{record.attemptCount}</td>
                      <td class="num">{record.redriveCount}</td>
                      <td class="nowrap">{formatTime(record.deadLetteredAtMs)}</td>
                      <td class="mono preview">{record.valuePreview}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <nav class="row pager" aria-label="Pages">
              <button type="button" disabled={pageIndex === 0} onClick={() => { setPageIndex(pageIndex - 1); }}>
                ‹ Previous
              </button>
              <span>Page {pageIndex + 1} of {formatCount(Math.max(1, Math.ceil(page.totalMatching / pageSize)))}</span>
              <button type="button" disabled={page.nextPageToken === ''} onClick={() => { setPageIndex(pageIndex + 1); }}>
                Next ›
              </button>
              <label>
                Per page{' '}
                <select value={String(pageSize)} onChange={(event) => { setPageSize(Number(event.currentTarget.value)); }}>
                  {pageSizes.map((size) => <option key={size} value={String(size)}>{size}</option>)}
                </select>
              </label>
            </nav>
          </>
        )}
      </Loaded>
    </section>
  );
}
