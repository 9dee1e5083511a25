/** Small building blocks shared by the console's pages. */
import type { ComponentChildren } from 'preact';
import { ApiError } from './api.js';

/** The text of anything thrown, for a notice. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** A message for screen readers and eyes: `status` is polite, `error` assertive. */
export function Notice(props: { kind: 'status' | 'error' | 'ok'; children: ComponentChildren; testId?: string }) {
  return (
    <p class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'} data-testid={props.testId}>
      {props.children}
    </p>
  );
}

/** What a page is doing with its data. */
export type Load<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'failed'; error: unknown };

/** Shows a load's loading or failed state, or renders `children` with its value. */
export function Loaded<T>(props: { load: Load<T>; what: string; children: (value: T) => ComponentChildren }) {
  const { load } = props;
  if (load.state === 'loading') return <p aria-busy="true" class="muted">Loading {props.what}…</p>;
  if (load.state === 'failed') return <Notice kind="error">Could not load {props.what}: {errorText(load.error)}</Notice>;
  return <>{props.children(load.value)}</>;
}
