/**
 * A small parser of the Prometheus text exposition format (version 0.0.4),
 * enough to check what a `/metrics` endpoint serves: `# TYPE` lines and
 * samples `name{label="value",...} value [timestamp]`, with the format's
 * escapes in label values (`\\`, `\"`, `\n`). Other comments (`# HELP`,
 * `# UNIT`) are skipped. Malformed lines throw, naming the line, so a test
 * cannot pass on output it did not understand.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  samples: Sample[];
  /** Metric family name -> type (`counter`, `gauge`, `histogram`, ...). */
  types: Map<string, string>;
}

const namePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: string): number {
  switch (text) {
    case '+Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
  }
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`not a sample value: ${JSON.stringify(text)} in ${JSON.stringify(line)}`);
  return value;
}

/** Reads `{a="x",b="y"}` from `at` (just after the name); returns the labels and where they end. */
function parseLabels(line: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  const fail = (what: string): never => {
    throw new Error(`${what} at column ${i} of ${JSON.stringify(line)}`);
  };
  for (;;) {
    if (line[i] === '}') return { labels, end: i + 1 };
    const name = labelNamePattern.exec(line.slice(i))?.[0] ?? fail('expected a label name');
    i += name.length;
    if (line[i] !== '=' || line[i + 1] !== '"') fail('expected ="');
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i] ?? fail('unterminated label value');
      i++;
      if (c === '"') break;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const escaped = line[i] ?? fail('unterminated escape');
      i++;
      if (escaped === 'n') value += '\n';
      else if (escaped === '\\' || escaped === '"') value += escaped;
      else fail(`unknown escape \\${escaped}`);
    }
    labels[name] = value;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') fail('expected , or }');
  }
}

/** Parses `text` (see the file comment). */
export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s+TYPE\s+(\S+)\s+(\S+)$/.exec(line);
      if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2]);
      continue;
    }
    const name = namePattern.exec(line)?.[0];
    if (name === undefined) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    let labels: Record<string, string> = {};
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) {
      const parsed = parseLabels(line, name.length);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2) throw new Error(`expected a value and an optional timestamp in ${JSON.stringify(line)}`);
    samples.push({ name, labels, value: parseValue(fields[0] ?? '', line) });
  }
  return { samples, types };
}

/** Samples named `name` whose labels include `labels`. */
export function samplesOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
}

/** The sum of the samples named `name` whose labels include `labels`; 0 when there are none. */
export function sumOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return samplesOf(exposition, name, labels).reduce((sum, s) => sum + s.value, 0);
}
