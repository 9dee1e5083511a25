import { describe, expect, it } from 'vitest';
import { parsePrometheusText, samplesOf, sumOf } from './prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads types and samples, with labels, escapes, special values and timestamps', () => {
    const text = [
      '# HELP orders_total Orders.',
      '# UNIT orders_total {record}',
      '# TYPE orders_total counter',
      'orders_total{topic="a",note="say \\"hi\\"\\n\\\\"} 3',
      'orders_total{topic="b",} 4 1700000000000',
      '# TYPE latency histogram',
      'latency_bucket{le="0.5"} 1',
      'latency_bucket{le="+Inf"} 2',
      'latency_sum 0.75',
      'latency_count 2',
      'up NaN',
      'down -Inf',
      '',
    ].join('\n');
    const parsed = parsePrometheusText(text);
    expect(parsed.types).toEqual(new Map([['orders_total', 'counter'], ['latency', 'histogram']]));
    expect(samplesOf(parsed, 'orders_total')).toEqual([
      { name: 'orders_total', labels: { topic: 'a', note: 'say "hi"\n\\' }, value: 3 },
      { name: 'orders_total', labels: { topic: 'b' }, value: 4 },
    ]);
    expect(sumOf(parsed, 'orders_total')).toBe(7);
    expect(sumOf(parsed, 'orders_total', { topic: 'b' })).toBe(4);
    expect(sumOf(parsed, 'missing')).toBe(0);
    expect(samplesOf(parsed, 'latency_bucket', { le: '+Inf' })[0]?.value).toBe(2);
    expect(samplesOf(parsed, 'up')[0]?.value).toBeNaN();
    expect(samplesOf(parsed, 'down')[0]?.value).toBe(Number.NEGATIVE_INFINITY);
  });

  it('throws on lines it does not understand', () => {
    expect(() => parsePrometheusText('orders_total{topic="a} 1')).toThrow(/unterminated label value/);
    expect(() => parsePrometheusText('orders_total{topic=a} 1')).toThrow(/expected ="/);
    expect(() => parsePrometheusText('orders_total{topic="\\t"} 1')).toThrow(/unknown escape/);
    expect(() => parsePrometheusText('orders_total seven')).toThrow(/not a sample value/);
    expect(() => parsePrometheusText('orders_total')).toThrow(/not a sample value/);
    expect(() => parsePrometheusText('orders_total 1 2 3')).toThrow(/optional timestamp/);
    expect(() => parsePrometheusText('{a="b"} 1')).toThrow(/not a sample line/);
  });
});
