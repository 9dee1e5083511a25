/**
 * One check of one rule, as a pure function: the rule's previous state and
 * the metric's value now in, the next state and, on a crossing, the one
 * event to notify out. Hysteresis lives here:
 *
 * - OK (or never checked) -> value above `threshold`: FIRING at once when
 *   `for_ms` is 0, else PENDING; PENDING -> FIRING once the value stayed
 *   above the threshold for `for_ms` (a check at or below it goes back to OK).
 * - FIRING stays FIRING, without another notice, until a check sees the
 *   value at or below `clear_threshold`; then OK and one "resolved" notice.
 *
 * So a queue sitting above its threshold notifies once, not at every check,
 * and a value wobbling between `clear_threshold` and `threshold` after
 * firing notifies nothing more.
 */
import { AlertEventKind, AlertStatus } from '@braid/proto';
import type { AlertRule, AlertState } from '@braid/proto';

/** The parts of a rule's state the machine reads and writes (`AlertState` without its rule). */
export type RuleState = Omit<AlertState, 'rule'>;

/** The state of a rule never checked. */
export function initialRuleState(): RuleState {
  return { status: AlertStatus.ALERT_STATUS_UNSPECIFIED, value: 0, sinceMs: 0, checkedAtMs: 0, firedCount: 0 };
}

/** What a check decided. */
export interface RuleStep {
  /** The state after the check. */
  state: RuleState;
  /** FIRING or RESOLVED when the check crossed a threshold; undefined otherwise. */
  event: AlertEventKind | undefined;
  /** Whether the status changed (what the store has to keep). */
  statusChanged: boolean;
}

/** One check of `rule` with the metric at `value` at time `nowMs`; see the file comment. */
export function stepRule(rule: AlertRule, previous: RuleState, value: number, nowMs: number): RuleStep {
  const checked = { ...previous, value, checkedAtMs: nowMs };
  const become = (status: AlertStatus, event?: AlertEventKind): RuleStep => ({
    state: { ...checked, status, sinceMs: nowMs, firedCount: checked.firedCount + (event === AlertEventKind.ALERT_EVENT_KIND_FIRING ? 1 : 0) },
    event,
    statusChanged: true,
  });
  const stay = (): RuleStep => ({ state: checked, event: undefined, statusChanged: false });
  const above = value > rule.threshold;
  switch (previous.status) {
    case AlertStatus.ALERT_STATUS_FIRING:
      return value <= rule.clearThreshold ? become(AlertStatus.ALERT_STATUS_OK, AlertEventKind.ALERT_EVENT_KIND_RESOLVED) : stay();
    case AlertStatus.ALERT_STATUS_PENDING:
      if (!above) return become(AlertStatus.ALERT_STATUS_OK);
      return nowMs - previous.sinceMs >= rule.forMs ? become(AlertStatus.ALERT_STATUS_FIRING, AlertEventKind.ALERT_EVENT_KIND_FIRING) : stay();
    case AlertStatus.ALERT_STATUS_OK:
      if (!above) return stay();
      break;
    default:
      // Never checked (or a status this version does not know): start from here.
      if (!above) return become(AlertStatus.ALERT_STATUS_OK);
  }
  return rule.forMs === 0
    ? become(AlertStatus.ALERT_STATUS_FIRING, AlertEventKind.ALERT_EVENT_KIND_FIRING)
    : become(AlertStatus.ALERT_STATUS_PENDING);
}
