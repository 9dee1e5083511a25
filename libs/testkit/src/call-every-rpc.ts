/**
 * Calls every RPC of a service once with an empty request (or with the
 * fields a test sets for that RPC: bad input beyond "empty") and reports how
 * each call ended: for checking that a skeleton (or a partial service)
 * answers precise statuses for everything and crashes on nothing.
 */
import { credentials, makeGenericClientConstructor, Metadata } from '@grpc/grpc-js';
import type { ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';
import type { BraidError } from '@braid/core';

/** How one RPC ended. */
export interface RpcOutcome {
  /** Full method path, e.g. `/braid.v1.ProducerService/Publish`. */
  path: string;
  /** The error, or undefined when the call succeeded. */
  error: BraidError | undefined;
}

type Callback = (error: ServiceError | null) => void;
type AnyCall = NodeJS.EventEmitter & { end?: () => void; write?: (message: unknown) => boolean };
type DynamicClient = Record<string, (...args: unknown[]) => AnyCall> & { close(): void };

/** Options of {@link callEveryRpc}. */
export interface CallEveryRpcOptions {
  /** Deadline of each call in ms (default 5000). */
  timeoutMs?: number;
  /**
   * Fields to set in the request of some RPCs, by method name as the
   * definition spells it (`readRecords`), over the all-default message:
   * e.g. `{ readRecords: { topic: 'orders', partition: -1 } }`. Streams
   * send it as their one message.
   */
  requests?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Calls every method of `definition` at `address`, with empty (all-default)
 * messages except where `options.requests` sets fields. Throws if
 * `requests` names a method the service does not have (a typo would
 * otherwise silently test the empty request).
 */
export async function callEveryRpc(address: string, definition: ServiceDefinition, options: CallEveryRpcOptions = {}): Promise<RpcOutcome[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const requests = options.requests ?? {};
  for (const name of Object.keys(requests)) {
    if (!Object.hasOwn(definition, name)) throw new Error(`callEveryRpc: the service has no method ${name} (requests names it)`);
  }
  const Client = makeGenericClientConstructor(definition, 'Service');
  const client = new Client(address, credentials.createInsecure()) as unknown as DynamicClient;
  const outcomes: RpcOutcome[] = [];
  try {
    for (const [name, method] of Object.entries(definition)) {
      const fn = client[name];
      if (!fn) throw new Error(`client has no method ${name}`);
      const options = { deadline: Date.now() + timeoutMs };
      // The empty message as the method's own decoder sees it, with every
      // field at its default (an encoder may not accept a bare `{}`), and
      // the fields the test set on top.
      const defaults: unknown = method.requestDeserialize(Buffer.alloc(0));
      const fields = requests[name];
      const request: unknown = fields && typeof defaults === 'object' ? { ...defaults, ...fields } : defaults;
      const error = await new Promise<unknown>((resolve) => {
        const callback: Callback = (err) => { resolve(err ?? undefined); };
        if (!method.requestStream && !method.responseStream) {
          fn.call(client, request, new Metadata(), options, callback);
        } else if (method.requestStream && !method.responseStream) {
          fn.call(client, new Metadata(), options, callback).end?.();
        } else {
          const call = method.requestStream ? fn.call(client, new Metadata(), options) : fn.call(client, request, new Metadata(), options);
          call.on('data', () => undefined);
          call.on('error', resolve);
          call.on('end', () => { resolve(undefined); });
          if (method.requestStream) {
            call.write?.(request);
            call.end?.();
          }
        }
      });
      outcomes.push({ path: method.path, error: error === undefined ? undefined : fromGrpcError(error) });
    }
  } finally {
    client.close();
  }
  return outcomes;
}
