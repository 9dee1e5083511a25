/**
 * Alert rules with where each stands (`GET /api/alert-rules`, refreshed
 * every few seconds so a rule is seen going pending, firing and back to
 * ok), a form that creates a rule for one of the queues
 * (`POST /api/alert-rules`), and deletion after a confirmation
 * (`DELETE /api/alert-rules/:id`). Changes need the admin token of the
 * page header when dlq-admin has one, and are written to the audit log
 * under the name entered there. The tab is shown only when this dlq-admin
 * serves the route (404: no alerts).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import type { AlertMetricName, AlertRuleInput, AlertRuleView, AlertRulesResponse, QueueView } from './api.js';
import { formatCount, formatDuration, formatTime } from './format.js';
import { href } from './route.js';
import { Loaded, Notice, errorText } from './ui.js';
import type { Load } from './ui.js';

/** How often the rules (and their status) are read again, ms. */
const refreshIntervalMs = 3000;

/** The rules, or undefined when this dlq-admin serves no alert rules (404). */
export async function fetchAlertRules(): Promise<AlertRulesResponse | undefined> {
  try {
    return await api.alertRules();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** A metric's value in its unit. */
function metricValue(rule: AlertRuleView, value: number): string {
  return rule.metric === 'OLDEST_AGE_MS' ? formatDuration(value) : formatCount(value);
}

const metricNames: Readonly<Record<string, string>> = {
  DEPTH: 'depth',
  ARRIVALS_PER_MINUTE: 'arrivals / min',
  OLDEST_AGE_MS: 'oldest record age',
};

/** `depth > 100 for 1 min` */
function describeRule(rule: AlertRuleView): string {
  return `${metricNames[rule.metric] ?? rule.metric} > ${metricValue(rule, rule.threshold)}${rule.forMs > 0 ? ` for ${formatDuration(rule.forMs)}` : ''}`;
}

/** The status in words; a rule not checked since it was created is UNSPECIFIED. */
function statusText(status: string): string {
  return status === 'UNSPECIFIED' ? 'not checked yet' : status.toLowerCase();
}

/** The message of a failed change, with a hint when the token is what is missing. */
function changeError(error: unknown): string {
  const text = errorText(error);
  return error instanceof ApiError && error.status === 401 ? `${text} (enter the admin token at the top of the page and save it)` : text;
}

export function Alerts() {
  const [load, setLoad] = useState<Load<AlertRulesResponse | undefined>>({ state: 'loading' });
  const [refreshError, setRefreshError] = useState<string | undefined>(undefined);
  const [queues, setQueues] = useState<QueueView[] | undefined>(undefined);
  const [reloads, setReloads] = useState(0);
  const [confirming, setConfirming] = useState<AlertRuleView | undefined>(undefined);
  const [deleting, setDeleting] = useState(false);
  const [outcome, setOutcome] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>(undefined);

  useEffect(() => {
    const read = (): void => {
      fetchAlertRules().then(
        (value) => {
          setLoad({ state: 'ok', value });
          setRefreshError(undefined);
        },
        (error: unknown) => {
          // Once shown, the rules stay on screen; a failed refresh only says so.
          setLoad((previous) => (previous.state === 'ok' ? previous : { state: 'failed', error }));
          setRefreshError(errorText(error));
        },
      );
    };
    read();
    const timer = setInterval(read, refreshIntervalMs);
    return () => { clearInterval(timer); };
  }, [reloads]);

  useEffect(() => {
    api.queues().then(
      (value) => { setQueues(value.queues); },
      () => { setQueues([]); },
    );
  }, []);

  const reload = (): void => { setReloads((n) => n + 1); };

  const remove = async (rule: AlertRuleView): Promise<void> => {
    setDeleting(true);
    setOutcome(undefined);
    try {
      await api.deleteAlertRule(rule.id);
      setOutcome({ kind: 'ok', text: `Deleted rule ${rule.id} (${describeRule(rule)} on ${rule.topic} / ${rule.subscription}).` });
      setConfirming(undefined);
      reload();
    } catch (error) {
      setOutcome({ kind: 'error', text: changeError(error) });
    } finally {
      setDeleting(false);
    }
  };

  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alert rules</h1>
      <Loaded load={load} what="alert rules">
        {(value) => {
          if (value === undefined) return <p>This dlq-admin does not serve alert rules.</p>;
          return (
            <>
              {refreshError === undefined ? null : <Notice kind="error">Could not refresh the rules: {refreshError}</Notice>}
              {value.rules.length === 0 ? (
                <p data-testid="alerts-empty">No alert rules yet.</p>
              ) : (
                <table data-testid="alert-rules">
                  <thead>
                    <tr>
                      <th scope="col">Queue</th>
                      <th scope="col">Fires when</th>
                      <th scope="col">Clears at</th>
                      <th scope="col">Status</th>
                      <th scope="col" class="num">Now</th>
                      <th scope="col">Since</th>
                      <th scope="col" class="num">Fired</th>
                      <th scope="col">Description</th>
                      <th scope="col">Created</th>
                      <th scope="col"><span class="visually-hidden">Actions</span></th>
                    </tr>
                  </thead>
                  <tbody>
                    {value.rules.map((rule) => (
                      <tr key={rule.id} data-testid="alert-rule" data-rule-id={rule.id} data-status={rule.status}>
                        <td>
                          <a href={href({ page: 'records', topic: rule.topic, subscription: rule.subscription, filter: {} })}>
                            {rule.topic} / {rule.subscription}
                          </a>
                        </td>
                        <td>
                          {describeRule(rule)}
                          {rule.webhooks.length === 0 ? null : (
                            <div class="muted small" title={rule.webhooks.join('\n')}>
                              + {rule.webhooks.length} webhook{rule.webhooks.length === 1 ? '' : 's'}
                            </div>
                          )}
                        </td>
                        <td>{metricValue(rule, rule.clearThreshold)}</td>
                        <td class={rule.status === 'FIRING' ? 'bad' : rule.status === 'OK' ? 'ok' : rule.status === 'PENDING' ? 'pending' : ''} data-testid="alert-status">
                          {statusText(rule.status)}
                        </td>
                        <td class="num">{rule.checkedAtMs === 0 ? '—' : metricValue(rule, rule.value)}</td>
                        <td class="nowrap">{formatTime(rule.sinceMs)}</td>
                        <td class="num">{formatCount(rule.firedCount)}</td>
                        <td>{rule.description}</td>
                        <td class="nowrap">
                          {formatTime(rule.createdAtMs)} by {rule.createdBy}
                        </td>
                        <td>
                          <button
                            type="button"
                            class="danger"
                            disabled={deleting}
                            onClick={() => { setOutcome(undefined); setConfirming(rule); }}
                            data-testid="alert-delete"
                            aria-label={`Delete rule ${rule.id}`}
                          >
                            Delete…
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {confirming === undefined ? null : (
                <div class="confirm" role="group" aria-label="Confirm deletion" data-testid="alert-delete-confirm">
                  <p>
                    Delete rule {confirming.id}, {describeRule(confirming)} on {confirming.topic} / {confirming.subscription}?
                    {confirming.status === 'FIRING' ? ' It is firing: its webhooks get a last "resolved" notice.' : ''} This cannot be undone.
                  </p>
                  <button type="button" class="danger" disabled={deleting} onClick={() => { void remove(confirming); }} data-testid="alert-delete-yes">
                    Delete rule
                  </button>
                  <button type="button" disabled={deleting} onClick={() => { setConfirming(undefined); }}>
                    Cancel
                  </button>
                </div>
              )}
              {outcome === undefined ? null : <Notice kind={outcome.kind} testId="alert-delete-result">{outcome.text}</Notice>}
              <NewRuleForm queues={queues} onCreated={reload} />
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

/** The unit a threshold of `metric` is entered in. */
const thresholdUnits: Readonly<Record<AlertMetricName, string>> = {
  DEPTH: 'records',
  ARRIVALS_PER_MINUTE: 'records / min',
  OLDEST_AGE_MS: 'seconds',
};

/**
 * A whole number >= 0 typed in a field (times `scale`), undefined when the
 * field is empty; throws naming the field otherwise.
 */
function wholeNumber(label: string, text: string, scale = 1): number | undefined {
  if (text.trim() === '') return undefined;
  const value = Number(text) * scale;
  if (!Number.isFinite(value) || value < 0) throw new Error(`${label} must be a number >= 0, got "${text}"`);
  return Math.round(value);
}

const queueKey = (queue: { topic: string; subscription: string }): string => JSON.stringify([queue.topic, queue.subscription]);

function NewRuleForm(props: { queues: QueueView[] | undefined; onCreated: () => void }) {
  const { queues } = props;
  const [queue, setQueue] = useState('');
  const [metric, setMetric] = useState<AlertMetricName>('DEPTH');
  const [threshold, setThreshold] = useState('');
  const [clearThreshold, setClearThreshold] = useState('');
  const [forSeconds, setForSeconds] = useState('');
  const [webhooks, setWebhooks] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>(undefined);

  const chosen = queues?.find((q) => queueKey(q) === queue) ?? queues?.[0];
  // Ages are entered in seconds, sent in ms.
  const scale = metric === 'OLDEST_AGE_MS' ? 1000 : 1;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setOutcome(undefined);
    if (chosen === undefined) return;
    let input: AlertRuleInput;
    try {
      const limit = wholeNumber('Threshold', threshold, scale);
      if (limit === undefined) throw new Error('Threshold is required');
      const clear = wholeNumber('Clears at', clearThreshold, scale);
      const forMs = wholeNumber('For', forSeconds, 1000);
      const urls = webhooks.split(/[\s,]+/).filter((url) => url !== '');
      input = {
        topic: chosen.topic,
        subscription: chosen.subscription,
        metric,
        threshold: limit,
        ...(clear === undefined ? {} : { clearThreshold: clear }),
        ...(forMs === undefined ? {} : { forMs }),
        ...(urls.length === 0 ? {} : { webhooks: urls }),
        ...(description.trim() === '' ? {} : { description: description.trim() }),
      };
    } catch (error) {
      setOutcome({ kind: 'error', text: errorText(error) });
      return;
    }
    setBusy(true);
    try {
      const { rule } = await api.createAlertRule(input);
      setOutcome({ kind: 'ok', text: `Created rule ${rule.id}: ${describeRule(rule)} on ${rule.topic} / ${rule.subscription}.` });
      setThreshold('');
      setClearThreshold('');
      setForSeconds('');
      setWebhooks('');
      setDescription('');
      props.onCreated();
    } catch (error) {
      setOutcome({ kind: 'error', text: changeError(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="filters rule-form" aria-labelledby="new-rule-title" onSubmit={(event) => { void submit(event); }} data-testid="alert-rule-form">
      <h2 id="new-rule-title">New rule</h2>
      {queues === undefined ? (
        <p aria-busy="true" class="muted">Loading queues…</p>
      ) : queues.length === 0 ? (
        <p class="muted" data-testid="alert-no-queues">
          No dead-letter queues yet to watch. (<code>npx braid dlq alerts create</code> takes any subscription.)
        </p>
      ) : (
        <>
          <div class="row">
            <label>
              Queue
              <select value={chosen === undefined ? '' : queueKey(chosen)} onChange={(event) => { setQueue(event.currentTarget.value); }} data-testid="alert-queue">
                {queues.map((q) => (
                  <option key={queueKey(q)} value={queueKey(q)}>
                    {q.topic} / {q.subscription}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Metric
              <select value={metric} onChange={(event) => { setMetric(event.currentTarget.value as AlertMetricName); }} data-testid="alert-metric">
                <option value="DEPTH">depth</option>
                <option value="ARRIVALS_PER_MINUTE">arrivals per minute</option>
                <option value="OLDEST_AGE_MS">oldest record age</option>
              </select>
            </label>
            <label>
              Fires above ({thresholdUnits[metric]})
              <input type="number" min="0" step="any" required class="narrow" value={threshold} onInput={(event) => { setThreshold(event.currentTarget.value); }} data-testid="alert-threshold" />
            </label>
            <label>
              Clears at or below (default: the threshold)
              <input type="number" min="0" step="any" class="narrow" value={clearThreshold} onInput={(event) => { setClearThreshold(event.currentTarget.value); }} data-testid="alert-clear-threshold" />
            </label>
            <label>
              For (seconds above first)
              <input type="number" min="0" step="any" placeholder="0" class="narrow" value={forSeconds} onInput={(event) => { setForSeconds(event.currentTarget.value); }} data-testid="alert-for" />
            </label>
          </div>
          <div class="row">
            <label class="grow">
              Webhooks (http/https URLs, comma-separated; besides dlq-admin's own)
              <input type="text" value={webhooks} placeholder="https://hooks.example.com/braid" onInput={(event) => { setWebhooks(event.currentTarget.value); }} data-testid="alert-webhooks" />
            </label>
            <label class="grow">
              Description
              <input type="text" value={description} onInput={(event) => { setDescription(event.currentTarget.value); }} data-testid="alert-description" />
            </label>
            <button type="submit" class="primary" disabled={busy} data-testid="alert-create">
              Create rule
            </button>
          </div>
        </>
      )}
      {outcome === undefined ? null : <Notice kind={outcome.kind} testId="alert-form-result">{outcome.text}</Notice>}
    </form>
  );
}
