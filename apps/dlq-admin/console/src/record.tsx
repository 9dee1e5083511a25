/**
 * One dead-lettered record: where it came from, its payload (pretty JSON
 * when it parses), headers, the attempt ledger as a timeline from publish
 * to dead letter, and earlier operator edits. Actions: redrive as is, edit
 * the value (with a diff against the original) and redrive, purge (after a
 * confirmation).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import type { RecordView, RedriveInput } from './api.js';
import { formatDuration, formatTime, keyText, payloadOf, prettyJson } from './format.js';
import type { Payload } from './format.js';
import { href } from './route.js';
import { Notice, errorText } from './ui.js';
import type { Load } from './ui.js';
import { ValueDiff } from './value-diff.js';

interface Props {
  topic: string;
  subscription: string;
  partition: number;
  offset: number;
}

type Outcome = { kind: 'ok' | 'error'; text: string } | undefined;

export function RecordPage(props: Props) {
  const { topic, subscription, partition, offset } = props;
  const [load, setLoad] = useState<Load<RecordView>>({ state: 'loading' });
  /** Set once the record left the queue here (redriven or purged). */
  const [gone, setGone] = useState<string | undefined>(undefined);

  useEffect(() => {
    setLoad({ state: 'loading' });
    setGone(undefined);
    api.record(topic, subscription, partition, offset).then(
      ({ record }) => { setLoad({ state: 'ok', value: record }); },
      (error: unknown) => { setLoad({ state: 'failed', error }); },
    );
  }, [topic, subscription, partition, offset]);

  const back = href({ page: 'records', topic, subscription, filter: {} });
  return (
    <section aria-labelledby="record-title">
      <p class="crumbs">
        <a href={href({ page: 'overview' })}>Queues</a> › <a href={back}>{subscription} on {topic}</a> › {partition}/{offset}
      </p>
      <h1 id="record-title">
        Record {partition}/{offset}
      </h1>
      {gone !== undefined ? (
        <Notice kind="ok" testId="record-gone">
          {gone} <a href={back}>Back to the queue</a>
        </Notice>
      ) : load.state === 'loading' ? (
        <p aria-busy="true" class="muted">Loading the record…</p>
      ) : load.state === 'failed' ? (
        load.error instanceof ApiError && load.error.status === 404 ? (
          <Notice kind="status" testId="record-gone">
            This record is not in the queue (any more): it was redriven or purged. <a href={back}>Back to the queue</a>
          </Notice>
        ) : (
          <Notice kind="error">Could not load the record: {errorText(load.error)}</Notice>
        )
      ) : (
        <RecordDetails record={load.value} {...props} onGone={setGone} />
      )}
    </section>
  );
}

function RecordDetails(props: Props & { record: RecordView; onGone: (message: string) => void }) {
  const { record, subscription } = props;
  const payload = payloadOf(record.value);
  return (
    <>
      <dl class="facts" data-testid="record-facts">
        <dt>Origin</dt>
        <dd class="mono">
          {record.origin.topic} / partition {record.origin.partition} / offset {record.origin.offset}
        </dd>
        <dt>Failed in subscription</dt>
        <dd class="mono">{record.origin.subscription || subscription}</dd>
        <dt>Key</dt>
        <dd class="mono" data-testid="record-key">{keyText(record.origin.key)}</dd>
        <dt>Published</dt>
        <dd>{formatTime(record.publishTimeMs)}</dd>
        <dt>Dead-lettered</dt>
        <dd>{formatTime(record.deadLetteredAtMs)}</dd>
        <dt>Redriven before</dt>
        <dd>{record.redriveCount} time{record.redriveCount === 1 ? '' : 's'}</dd>
      </dl>

      <RecordActions {...props} payload={payload} />

      <h2>
        Payload <span class="muted small">({payload.kind === 'binary' ? `${record.value.size} bytes, not UTF-8: base64` : `${record.value.size} bytes${payload.kind === 'json' ? ', JSON' : ''}`})</span>
      </h2>
      <pre class="payload" data-testid="payload" data-kind={payload.kind} tabIndex={0}>
        {payload.shown}
      </pre>

      <h2>Headers</h2>
      {Object.keys(record.headers).length === 0 ? (
        <p class="muted">No headers.</p>
      ) : (
        <table data-testid="headers">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(record.headers)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, value]) => (
                <tr key={name}>
                  <th scope="row" class="mono">{name}</th>
                  <td class="mono">{value}</td>
                </tr>
              ))}
          </tbody>
        </table>
      )}

      <h2>Attempts</h2>
      <Timeline record={record} />

      {record.edits.length === 0 ? null : (
        <>
          <h2>Earlier edits</h2>
          <ol class="edits" data-testid="edits">
            {record.edits.map((edit, index) => (
              <li key={index}>
                {formatTime(edit.timeMs)} by <strong>{edit.actor}</strong>; the value before:
                <pre class="payload small">{payloadOf(edit.previousValue).shown}</pre>
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

/** Publish, each attempt (with the wait since the one before), dead letter. */
function Timeline(props: { record: RecordView }) {
  const { record } = props;
  let previous = record.publishTimeMs;
  return (
    <ol class="timeline" data-testid="timeline">
      <li class="event-publish">
        <time>{formatTime(record.publishTimeMs)}</time> <strong>published</strong> to {record.origin.topic}/{record.origin.partition} at offset {record.origin.offset}
      </li>
      {record.attempts.map((attempt) => {
        const gap = previous === 0 ? undefined : attempt.timeMs - previous;
        previous = attempt.timeMs;
        return (
          <li key={attempt.attempt} class={`event-attempt disposition-${attempt.disposition.toLowerCase()}`} data-testid="attempt">
            <time>{formatTime(attempt.timeMs)}</time>
            {gap === undefined ? null : <span class="muted small"> (+{formatDuration(gap)})</span>} <strong>attempt {attempt.attempt}</strong>: {attempt.disposition.toLowerCase().replace(/_/g, ' ')}
            {attempt.errorClass === '' ? null : <> · <span class="mono">{attempt.errorClass}</span></>}
            {attempt.reason === '' ? null : <> · “{attempt.reason}”</>}
            {attempt.memberId === '' ? null : <span class="muted small"> · member {attempt.memberId}</span>}
          </li>
        );
      })}
      <li class="event-dead-letter">
        <time>{formatTime(record.deadLetteredAtMs)}</time> <strong>dead-lettered</strong>
      </li>
    </ol>
  );
}

/**
 * What is sent for an edited value: the text as typed, except that JSON
 * shown pretty-printed goes back compact when the original was compact
 * (consumers see the same layout as before; only the edit changes).
 */
function valueToSend(original: RecordView['value'], payload: Payload, edited: string): string {
  if (payload.kind !== 'json' || original.text === null) return edited;
  const wasCompact = prettyJson(original.text) !== undefined && original.text.trim() === JSON.stringify(JSON.parse(original.text));
  if (!wasCompact) return edited;
  try {
    return JSON.stringify(JSON.parse(edited));
  } catch {
    // Not JSON any more: send it as typed.
    return edited;
  }
}

function RecordActions(props: Props & { record: RecordView; payload: Payload; onGone: (message: string) => void }) {
  const { record, payload, topic, subscription } = props;
  const [editing, setEditing] = useState(false);
  const [edited, setEdited] = useState(payload.shown);
  const [force, setForce] = useState(false);
  const [confirmPurge, setConfirmPurge] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const ref = { dlqPartition: record.dlqPartition, dlqOffset: record.dlqOffset };

  const redrive = async (withEdit: boolean): Promise<void> => {
    setBusy(true);
    setOutcome(undefined);
    const input: RedriveInput = { selection: { refs: [ref] }, ...(force ? { force } : {}) };
    if (withEdit) {
      if (payload.kind === 'binary') input.newValue = edited.trim();
      else input.newValueText = valueToSend(record.value, payload, edited);
    }
    try {
      const last = await api.redrive(topic, subscription, input, () => undefined);
      if (last.redriven === 1) props.onGone(`Redriven${withEdit ? ' with the edited value' : ''}: sent back to subscription ${subscription}.`);
      else setOutcome({ kind: 'error', text: `Not redriven: ${last.skipped === 1 ? 'the record is at the redrive limit (tick force)' : 'nothing moved'}.` });
    } catch (error) {
      setOutcome({ kind: 'error', text: errorText(error) });
    } finally {
      setBusy(false);
    }
  };

  const purge = async (): Promise<void> => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const result = await api.purge(topic, subscription, { selection: { refs: [ref] } });
      if (result.purged === 1) props.onGone('Purged: the record was removed from the dead-letter queue.');
      else setOutcome({ kind: 'error', text: 'Nothing was purged.' });
    } catch (error) {
      setOutcome({ kind: 'error', text: errorText(error) });
    } finally {
      setBusy(false);
      setConfirmPurge(false);
    }
  };

  const jsonProblem = payload.kind === 'json' && editing ? jsonError(edited) : undefined;
  const changed = edited !== payload.shown;
  return (
    <div class="actions" data-testid="record-actions">
      <div class="row">
        <button type="button" class="primary" disabled={busy || editing} onClick={() => { void redrive(false); }}>
          Redrive
        </button>
        <button type="button" disabled={busy || editing} onClick={() => { setEditing(true); setEdited(payload.shown); }}>
          Edit and redrive…
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => { setConfirmPurge(true); }}>
          Purge…
        </button>
        <label>
          <input type="checkbox" checked={force} onChange={(event) => { setForce(event.currentTarget.checked); }} /> force (ignore the redrive limit, {record.redriveCount} so far)
        </label>
      </div>
      {confirmPurge ? (
        <div class="confirm" role="group" aria-label="Confirm purge" data-testid="confirm">
          <p>Permanently remove this record from the dead-letter queue? It will not be delivered again. This cannot be undone.</p>
          <button type="button" class="danger" disabled={busy} onClick={() => { void purge(); }}>
            Purge this record
          </button>
          <button type="button" onClick={() => { setConfirmPurge(false); }}>
            Cancel
          </button>
        </div>
      ) : null}
      {editing ? (
        <div class="editor" data-testid="editor">
          <label for="new-value">
            New value{payload.kind === 'binary' ? ' (base64)' : payload.kind === 'json' ? ' (JSON)' : ''}
          </label>
          <textarea id="new-value" data-testid="new-value" rows={Math.min(24, Math.max(6, edited.split('\n').length + 1))} spellcheck={false} value={edited} onInput={(event) => { setEdited(event.currentTarget.value); }} />
          {jsonProblem === undefined ? null : <Notice kind="error">Not valid JSON any more: {jsonProblem} (it can still be sent).</Notice>}
          {changed ? <ValueDiff before={payload.shown} after={edited} /> : <p class="muted">No changes yet.</p>}
          <div class="row">
            <button type="button" class="primary" disabled={busy || !changed} onClick={() => { void redrive(true); }} data-testid="redrive-edited">
              Redrive with this value
            </button>
            <button type="button" disabled={busy} onClick={() => { setEditing(false); }}>
              Cancel
            </button>
          </div>
          <p class="muted small">
            The record goes back to subscription {subscription} only; the original value stays in its ledger as an edit.
          </p>
        </div>
      ) : null}
      {busy ? <Notice kind="status">Working…</Notice> : null}
      {outcome === undefined ? null : <Notice kind={outcome.kind} testId="record-outcome">{outcome.text}</Notice>}
    </div>
  );
}

function jsonError(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
