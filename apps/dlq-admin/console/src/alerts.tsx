/**
 * Alert rules with where each stands (`GET /api/alert-rules`). The tab is
 * shown only when this dlq-admin serves that route (404: no alerts).
 * Rules are created and deleted with `braid dlq alerts` or the gRPC API.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import type { AlertRuleView, AlertRulesResponse } from './api.js';
import { formatCount, formatDuration, formatTime } from './format.js';
import { href } from './route.js';
import { Loaded } from './ui.js';
import type { Load } from './ui.js';

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

export function Alerts() {
  const [load, setLoad] = useState<Load<AlertRulesResponse | undefined>>({ state: 'loading' });
  useEffect(() => {
    fetchAlertRules().then(
      (value) => { setLoad({ state: 'ok', value }); },
      (error: unknown) => { setLoad({ state: 'failed', error }); },
    );
  }, []);
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alert rules</h1>
      <Loaded load={load} what="alert rules">
        {(value) => {
          if (value === undefined) return <p>This dlq-admin does not serve alert rules.</p>;
          if (value.rules.length === 0) return <p data-testid="alerts-empty">No alert rules. Create them with <code>npx braid dlq alerts</code>.</p>;
          return (
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
                </tr>
              </thead>
              <tbody>
                {value.rules.map((rule) => (
                  <tr key={rule.id} data-testid="alert-rule" data-status={rule.status}>
                    <td>
                      <a href={href({ page: 'records', topic: rule.topic, subscription: rule.subscription, filter: {} })}>
                        {rule.topic} / {rule.subscription}
                      </a>
                    </td>
                    <td>
                      {metricNames[rule.metric] ?? rule.metric} &gt; {metricValue(rule, rule.threshold)}
                      {rule.forMs > 0 ? ` for ${formatDuration(rule.forMs)}` : ''}
                    </td>
                    <td>{metricValue(rule, rule.clearThreshold)}</td>
                    <td class={rule.status === 'FIRING' ? 'bad' : rule.status === 'OK' ? 'ok' : ''}>{rule.status.toLowerCase()}</td>
                    <td class="num">{metricValue(rule, rule.value)}</td>
                    <td class="nowrap">{formatTime(rule.sinceMs)}</td>
                    <td class="num">{formatCount(rule.firedCount)}</td>
                    <td>{rule.description}</td>
                    <td class="nowrap">
                      {formatTime(rule.createdAtMs)} by {rule.createdBy}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Loaded>
    </section>
  );
}
