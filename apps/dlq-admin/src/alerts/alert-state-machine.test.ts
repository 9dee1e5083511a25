import { describe, expect, it } from 'vitest';
import { AlertEventKind, AlertMetric, AlertStatus } from '@braid/proto';
import type { AlertRule } from '@braid/proto';
import { initialRuleState, stepRule } from './alert-state-machine.js';
import type { RuleState } from './alert-state-machine.js';

function rule(overrides: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 'r1',
    topic: 'orders',
    subscription: 'billing',
    metric: AlertMetric.ALERT_METRIC_DEPTH,
    threshold: 10,
    clearThreshold: 10,
    forMs: 0,
    webhooks: [],
    description: '',
    createdAtMs: 0,
    createdBy: 'test',
    ...overrides,
  };
}

/** Runs checks of `r` with these values, one per second, and returns the events in order. */
function run(r: AlertRule, values: number[], start: RuleState = initialRuleState()): { events: string[]; state: RuleState } {
  let state = start;
  const events: string[] = [];
  values.forEach((value, index) => {
    const step = stepRule(r, state, value, 1_000 * (index + 1));
    state = step.state;
    if (step.event === AlertEventKind.ALERT_EVENT_KIND_FIRING) events.push(`fire@${value}`);
    if (step.event === AlertEventKind.ALERT_EVENT_KIND_RESOLVED) events.push(`clear@${value}`);
  });
  return { events, state };
}

describe('stepRule', () => {
  it('fires once when the value crosses the threshold, however many checks see it above, and clears once', () => {
    const { events, state } = run(rule(), [0, 5, 11, 50, 12, 99, 10, 3, 0, 0]);
    expect(events).toEqual(['fire@11', 'clear@10']);
    expect(state).toMatchObject({ status: AlertStatus.ALERT_STATUS_OK, firedCount: 1, value: 0, checkedAtMs: 10_000, sinceMs: 7_000 });
  });

  it('fires again on the next crossing, one notice per crossing', () => {
    expect(run(rule(), [11, 0, 11, 11, 0, 20]).events).toEqual(['fire@11', 'clear@0', 'fire@11', 'clear@0', 'fire@20']);
  });

  it('"above" is strict: a value equal to the threshold neither fires nor keeps it pending', () => {
    expect(run(rule(), [10, 10, 10]).events).toEqual([]);
    expect(run(rule({ forMs: 1_000 }), [11, 10, 11, 10]).events).toEqual([]);
  });

  it('with a clear threshold below the threshold, a value wobbling around the threshold does not flap', () => {
    const wobbling = [11, 9, 11, 9, 11, 8, 11, 5, 6, 11];
    // Without a band, every crossing is a notice...
    expect(run(rule(), wobbling).events).toEqual(['fire@11', 'clear@9', 'fire@11', 'clear@9', 'fire@11', 'clear@8', 'fire@11', 'clear@5', 'fire@11']);
    // ... with "resolve at <= 5", the rule fires once and resolves once, when the queue really drained.
    expect(run(rule({ clearThreshold: 5 }), wobbling).events).toEqual(['fire@11', 'clear@5', 'fire@11']);
  });

  it('with for_ms, fires only after the value stayed above the threshold that long; a dip starts over', () => {
    const r = rule({ forMs: 2_000 });
    // Checks at 1 s intervals: above at 1,2 s, dip at 3 s, above at 4,5,6 s -> fires at 6 s (2 s after 4 s).
    const { events, state } = run(r, [11, 12, 0, 11, 11, 11, 11]);
    expect(events).toEqual(['fire@11']);
    expect(state).toMatchObject({ status: AlertStatus.ALERT_STATUS_FIRING, sinceMs: 6_000, firedCount: 1 });
    const pending = stepRule(r, initialRuleState(), 11, 1_000);
    expect(pending).toMatchObject({ event: undefined, statusChanged: true, state: { status: AlertStatus.ALERT_STATUS_PENDING, sinceMs: 1_000 } });
  });

  it('reports a status change (what the store keeps) only when the status changes', () => {
    const first = stepRule(rule(), initialRuleState(), 0, 1_000);
    expect(first).toMatchObject({ statusChanged: true, state: { status: AlertStatus.ALERT_STATUS_OK } });
    const second = stepRule(rule(), first.state, 3, 2_000);
    expect(second).toMatchObject({ statusChanged: false, event: undefined, state: { status: AlertStatus.ALERT_STATUS_OK, value: 3, sinceMs: 1_000, checkedAtMs: 2_000 } });
  });

  it('a firing rule restored after a restart does not fire again while still above, and resolves when below', () => {
    const restored: RuleState = { status: AlertStatus.ALERT_STATUS_FIRING, value: 50, sinceMs: 100, checkedAtMs: 100, firedCount: 4 };
    expect(run(rule(), [60, 70], restored).events).toEqual([]);
    expect(run(rule(), [60, 0], restored)).toMatchObject({ events: ['clear@0'], state: { firedCount: 4 } });
  });
});
