// A small OTLP/HTTP trace receiver for tests (tracing tests of the broker and dlq-admin): an HTTP server on a free
// loopback port that takes `POST /v1/traces` with a protobuf
// ExportTraceServiceRequest and decodes the spans (name, ids, kind,
// attributes, links, service name), as a collector would.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { once } from 'node:events';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import type { WireType } from '@bufbuild/protobuf/wire';

/** One received span. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
}

type Value = string | number | boolean;

function messages(bytes: Uint8Array, visit: (field: number, reader: BinaryReader, wire: WireType) => void): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    visit(field, reader, wire);
  }
}

function anyValue(bytes: Uint8Array): Value {
  let value: Value = '';
  messages(bytes, (field, reader, wire) => {
    if (field === 1) value = reader.string();
    else if (field === 2) value = reader.bool();
    else if (field === 3) value = Number(reader.int64());
    else if (field === 4) value = reader.double();
    else reader.skip(wire);
  });
  return value;
}

function keyValue(bytes: Uint8Array, into: Record<string, Value>): void {
  let key = '';
  let value: Value = '';
  messages(bytes, (field, reader, wire) => {
    if (field === 1) key = reader.string();
    else if (field === 2) value = anyValue(reader.bytes());
    else reader.skip(wire);
  });
  into[key] = value;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function span(bytes: Uint8Array, service: string): ReceivedSpan {
  const out: ReceivedSpan = { service, traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, attributes: {}, links: [] };
  messages(bytes, (field, reader, wire) => {
    if (field === 1) out.traceId = hex(reader.bytes());
    else if (field === 2) out.spanId = hex(reader.bytes());
    else if (field === 4) out.parentSpanId = hex(reader.bytes());
    else if (field === 5) out.name = reader.string();
    else if (field === 6) out.kind = reader.int32();
    else if (field === 9) keyValue(reader.bytes(), out.attributes);
    else if (field === 13) {
      const link = { traceId: '', spanId: '' };
      messages(reader.bytes(), (f, r, w) => {
        if (f === 1) link.traceId = hex(r.bytes());
        else if (f === 2) link.spanId = hex(r.bytes());
        else r.skip(w);
      });
      out.links.push(link);
    } else reader.skip(wire);
  });
  return out;
}

/** Decodes an ExportTraceServiceRequest. */
export function decodeExportRequest(body: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  messages(body, (field, reader, wire) => {
    if (field !== 1) {
      reader.skip(wire);
      return;
    }
    // ResourceSpans: 1 resource, 2 scope spans.
    let service = '';
    const scopes: Uint8Array[] = [];
    messages(reader.bytes(), (f, r, w) => {
      if (f === 1) {
        const attributes: Record<string, Value> = {};
        messages(r.bytes(), (rf, rr, rw) => {
          if (rf === 1) keyValue(rr.bytes(), attributes);
          else rr.skip(rw);
        });
        service = String(attributes['service.name'] ?? '');
      } else if (f === 2) scopes.push(r.bytes());
      else r.skip(w);
    });
    for (const scope of scopes) {
      messages(scope, (f, r, w) => {
        if (f === 2) spans.push(span(r.bytes(), service));
        else r.skip(w);
      });
    }
  });
  return spans;
}

/** A running receiver: `endpoint` for OTEL_EXPORTER_OTLP_ENDPOINT, and what arrived. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Content types of the requests received. */
  readonly contentTypes: string[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const receiver: OtlpReceiver = new OtlpReceiver(
      createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          if (request.method === 'POST' && request.url === '/v1/traces') {
            receiver.contentTypes.push(request.headers['content-type'] ?? '');
            receiver.spans.push(...decodeExportRequest(Buffer.concat(chunks)));
          }
          response.writeHead(200, { 'content-type': 'application/x-protobuf' });
          response.end();
        });
      }),
    );
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    return receiver;
  }

  get endpoint(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('receiver is not listening on a port');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server.close();
    await once(this.server, 'close');
  }
}
