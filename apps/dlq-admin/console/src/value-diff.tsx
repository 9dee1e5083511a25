/** A line diff of an edited value against the original (jsdiff's `diffLines`). */
import { diffLines } from 'diff';

export interface DiffStats {
  added: number;
  removed: number;
}

function lineCount(text: string): number {
  if (text === '') return 0;
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
}

/** Lines added and removed from `before` to `after`. */
export function diffStats(before: string, after: string): DiffStats {
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    if (part.added) added += lineCount(part.value);
    else if (part.removed) removed += lineCount(part.value);
  }
  return { added, removed };
}

/** The diff as a unified-style listing: `+` added, `-` removed, ` ` kept lines. */
export function ValueDiff(props: { before: string; after: string }) {
  const parts = diffLines(props.before, props.after);
  const { added, removed } = diffStats(props.before, props.after);
  return (
    <figure class="diff" data-testid="diff">
      <figcaption>
        Changes against the original: <span class="add">+{added}</span> <span class="del">−{removed}</span> line{added + removed === 1 ? '' : 's'}
      </figcaption>
      <pre aria-label="diff against the original value">
        {parts.flatMap((part, index) => {
          const lines = part.value.replace(/\n$/, '').split('\n');
          const mark = part.added ? '+' : part.removed ? '-' : ' ';
          const kind = part.added ? 'add' : part.removed ? 'del' : 'same';
          return lines.map((line, n) => (
            <span key={`${index}-${n}`} class={`line ${kind}`} data-diff={kind}>
              {`${mark} ${line}\n`}
            </span>
          ));
        })}
      </pre>
    </figure>
  );
}
