/**
 * The overview: every dead-letter queue with its depth, the age of its
 * oldest record and arrivals in the last minute, kept live by the server's
 * event stream (`/api/queues/events`, every ~2 s; EventSource reconnects by
 * itself after a dropped connection).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { QueuesResponse } from './api.js';
import { formatCount, formatDuration, formatTime } from './format.js';
import { href } from './route.js';
import { Notice } from './ui.js';

/** Performance mark set when the overview first shows the queues (navigation start -> this = first load). */
export const overviewRenderedMark = 'braid:overview-rendered';

type Connection = 'connecting' | 'live' | 'reconnecting';

export function Overview() {
  const [data, setData] = useState<QueuesResponse | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [connection, setConnection] = useState<Connection>('connecting');
  const marked = useRef(false);

  useEffect(() => {
    const events = new EventSource('api/queues/events');
    events.addEventListener('queues', (event) => {
      setData(JSON.parse((event as MessageEvent<string>).data) as QueuesResponse);
      setProblem(undefined);
      setConnection('live');
    });
    events.addEventListener('problem', (event) => {
      const body = JSON.parse((event as MessageEvent<string>).data) as { error: { message: string } };
      setProblem(body.error.message);
    });
    events.addEventListener('error', () => { setConnection('reconnecting'); });
    return () => { events.close(); };
  }, []);

  useEffect(() => {
    if (data !== undefined && !marked.current) {
      marked.current = true;
      performance.mark(overviewRenderedMark);
    }
  }, [data]);

  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Dead-letter queues</h1>
      <p class="muted" data-testid="live-status">
        {connection === 'live' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        {data === undefined ? '' : ` · updated ${formatTime(data.timeMs)}`}
      </p>
      {problem === undefined ? null : <Notice kind="error">{problem}</Notice>}
      {data === undefined ? (
        <p aria-busy="true" class="muted">Loading queues…</p>
      ) : data.queues.length === 0 ? (
        <p data-testid="no-queues">No dead-letter queues yet: no subscription has dead-lettered a record.</p>
      ) : (
        <table data-testid="queues" data-loaded="true">
          <caption class="visually-hidden">Dead-letter queues, live</caption>
          <thead>
            <tr>
              <th scope="col">Topic</th>
              <th scope="col">Subscription</th>
              <th scope="col">Dead-letter topic</th>
              <th scope="col" class="num">Depth</th>
              <th scope="col" class="num">Oldest</th>
              <th scope="col" class="num">Arrivals / min</th>
            </tr>
          </thead>
          <tbody>
            {data.queues.map((queue) => (
              <tr key={`${queue.topic}/${queue.subscription}`} data-testid="queue-row" data-topic={queue.topic} data-subscription={queue.subscription}>
                <td>{queue.topic}</td>
                <td>
                  <a href={href({ page: 'records', topic: queue.topic, subscription: queue.subscription, filter: {} })}>{queue.subscription}</a>
                </td>
                <td class="mono">{queue.deadLetterTopic}</td>
                <td class="num" data-testid="queue-depth">{formatCount(queue.depth)}</td>
                <td class="num">{queue.depth === 0 ? '—' : formatDuration(queue.oldestAgeMs)}</td>
                <td class="num">{formatCount(queue.arrivalsLastMinute)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
