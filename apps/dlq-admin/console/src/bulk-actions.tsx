/**
 * Redrive and purge of a selection (checked rows, or everything matching
 * the filter), each in two steps: a dry run tells how many records the call
 * would touch, and only an explicit confirmation with that number runs it.
 * A redrive shows its progress from the NDJSON stream.
 */
import { useState } from 'preact/hooks';
import { api } from './api.js';
import type { SelectionInput } from './api.js';
import { formatCount } from './format.js';
import { Notice, errorText } from './ui.js';

type Step =
  | { step: 'idle' }
  | { step: 'checking'; action: 'redrive' | 'purge' }
  | { step: 'confirm'; action: 'redrive' | 'purge'; count: number; skipped: number }
  | { step: 'running'; action: 'redrive' | 'purge'; done: number; total: number }
  | { step: 'failed'; message: string };

export interface BulkActionsProps {
  topic: string;
  subscription: string;
  selection: SelectionInput;
  /** The selection in words: "3 selected records", "all 120 matching records". */
  describe: string;
  /**
   * Called when a redrive or purge ended (and changed the queue), with what
   * to tell the operator. The list shows it: the list reloads, and this
   * component goes away when nothing matches any more.
   */
  onChanged: (outcome: BulkOutcome) => void;
}

/** How a bulk action ended, in words. */
export interface BulkOutcome {
  kind: 'ok' | 'error';
  message: string;
}

export function BulkActions(props: BulkActionsProps) {
  const [state, setState] = useState<Step>({ step: 'idle' });
  const [force, setForce] = useState(false);
  const [rate, setRate] = useState('');

  const check = async (action: 'redrive' | 'purge'): Promise<void> => {
    setState({ step: 'checking', action });
    try {
      if (action === 'purge') {
        const dry = await api.purge(props.topic, props.subscription, { selection: props.selection, dryRun: true, omitRefs: true });
        setState({ step: 'confirm', action, count: dry.purged, skipped: 0 });
      } else {
        const dry = await api.redrive(props.topic, props.subscription, { selection: props.selection, dryRun: true, force, omitRefs: true }, () => undefined);
        setState({ step: 'confirm', action, count: dry.redriven, skipped: dry.skipped });
      }
    } catch (error) {
      setState({ step: 'failed', message: errorText(error) });
    }
  };

  const run = async (action: 'redrive' | 'purge', count: number): Promise<void> => {
    setState({ step: 'running', action, done: 0, total: count });
    try {
      if (action === 'purge') {
        const result = await api.purge(props.topic, props.subscription, { selection: props.selection, omitRefs: true });
        finish({ kind: 'ok', message: `Purged ${formatCount(result.purged)} record${result.purged === 1 ? '' : 's'}.` });
      } else {
        const recordsPerSecond = Number(rate);
        const last = await api.redrive(
          props.topic,
          props.subscription,
          { selection: props.selection, force, omitRefs: true, ...(rate !== '' && recordsPerSecond > 0 ? { recordsPerSecond } : {}) },
          (progress) => { setState({ step: 'running', action, done: progress.redriven, total: progress.total - progress.skipped }); },
        );
        finish({
          kind: 'ok',
          message: `Redrove ${formatCount(last.redriven)} record${last.redriven === 1 ? '' : 's'} to ${props.subscription}${last.skipped > 0 ? `; ${formatCount(last.skipped)} skipped at the redrive limit` : ''}.`,
        });
      }
    } catch (error) {
      finish({ kind: 'error', message: errorText(error) });
    }
  };

  const finish = (outcome: BulkOutcome): void => {
    setState({ step: 'idle' });
    props.onChanged(outcome);
  };

  const busy = state.step === 'checking' || state.step === 'running';
  return (
    <div class="bulk" data-testid="bulk-actions">
      <div class="row">
        <span>
          Act on <strong>{props.describe}</strong>:
        </span>
        <button type="button" disabled={busy} onClick={() => { void check('redrive'); }}>
          Redrive…
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => { void check('purge'); }}>
          Purge…
        </button>
        <label>
          <input type="checkbox" checked={force} onChange={(event) => { setForce(event.currentTarget.checked); }} /> force (ignore the redrive limit)
        </label>
        <label>
          rate limit{' '}
          <input type="number" min="0" step="1" inputMode="numeric" placeholder="unlimited" class="narrow" value={rate} onInput={(event) => { setRate(event.currentTarget.value); }} />{' '}
          records/s
        </label>
      </div>
      {state.step === 'checking' ? <Notice kind="status">Counting what the {state.action} would touch (dry run)…</Notice> : null}
      {state.step === 'confirm' ? (
        <div class="confirm" role="group" aria-label={`Confirm ${state.action}`} data-testid="confirm">
          {state.count === 0 ? (
            <Notice kind="status">Nothing to {state.action}{state.skipped > 0 ? ` (${formatCount(state.skipped)} at the redrive limit; tick force)` : ''}.</Notice>
          ) : (
            <p>
              {state.action === 'purge'
                ? `Permanently remove ${formatCount(state.count)} record${state.count === 1 ? '' : 's'} from this dead-letter queue? This cannot be undone.`
                : `Send ${formatCount(state.count)} record${state.count === 1 ? '' : 's'} back to subscription ${props.subscription} (and to no other subscription)?${state.skipped > 0 ? ` ${formatCount(state.skipped)} at the redrive limit will be skipped.` : ''}`}
            </p>
          )}
          {state.count === 0 ? null : (
            <button type="button" class={state.action === 'purge' ? 'danger' : 'primary'} onClick={() => { void run(state.action, state.count); }}>
              {state.action === 'purge' ? `Purge ${formatCount(state.count)}` : `Redrive ${formatCount(state.count)}`}
            </button>
          )}
          <button type="button" onClick={() => { setState({ step: 'idle' }); }}>
            Cancel
          </button>
        </div>
      ) : null}
      {state.step === 'running' ? (
        <p role="status">
          {state.action === 'purge' ? 'Purging…' : `Redriving: ${formatCount(state.done)} of ${formatCount(state.total)}`}{' '}
          <progress max={Math.max(1, state.total)} value={state.done} aria-label="progress" />
        </p>
      ) : null}
      {state.step === 'failed' ? <Notice kind="error" testId="bulk-check-failed">{state.message}</Notice> : null}
    </div>
  );
}
