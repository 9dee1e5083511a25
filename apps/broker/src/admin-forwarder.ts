/**
 * The broker's `AdminService`: it forwards every call to the coordinator
 * (which owns topics and subscriptions), so a client needs only one address,
 * and adds what only the leader knows (high watermark, log start, size) to
 * topic descriptions.
 */
import { Metadata } from '@grpc/grpc-js';
import type { CallOptions, ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';
import { AdminServiceService } from '@braid/proto';
import type { AdminServiceClient, DescribeTopicResponse } from '@braid/proto';
import { unary } from '@braid/server';
import type { ServiceRegistration } from '@braid/server';
import type { LogStore } from '@braid/storage';

type UnaryClientMethod = (
  request: unknown,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response?: unknown) => void,
) => unknown;

/** Deadline for a forwarded call. */
const forwardTimeoutMs = 10_000;

function forward(client: AdminServiceClient, method: string, request: unknown): Promise<unknown> {
  const fn = (client as unknown as Record<string, UnaryClientMethod | undefined>)[method];
  if (!fn) return Promise.reject(new Error(`AdminServiceClient has no method ${method}`));
  return new Promise((resolve, reject) => {
    fn.call(client, request, new Metadata(), { deadline: Date.now() + forwardTimeoutMs }, (error, response) => {
      if (error) reject(fromGrpcError(error));
      else resolve(response);
    });
  });
}

/** The AdminService registration for the broker's server. */
export function adminForwarder(client: AdminServiceClient, store: LogStore, brokerId: string): ServiceRegistration {
  const implementation: Record<string, ReturnType<typeof unary>> = {};
  for (const method of Object.keys(AdminServiceService)) {
    implementation[method] = unary((request: unknown) => forward(client, method, request));
  }
  implementation.describeTopic = unary(async (request: unknown) => {
    const described = (await forward(client, 'describeTopic', request)) as DescribeTopicResponse;
    const id = described.topic?.id;
    if (id !== undefined) {
      for (const info of described.partitions) {
        if (info.leaderId !== brokerId) continue;
        const log = store.partition(id, info.partition);
        info.highWatermark = log.highWatermark;
        info.logStartOffset = log.logStartOffset;
        info.sizeBytes = log.sizeBytes;
      }
    }
    return described;
  });
  return { name: 'braid.v1.AdminService', definition: AdminServiceService, implementation };
}
