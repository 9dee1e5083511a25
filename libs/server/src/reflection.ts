/**
 * gRPC server reflection over the Braid contract (and the health service),
 * so `grpcurl` and friends can list and call every RPC without the .proto
 * files. The contract comes from the FileDescriptorSet generated next to the
 * ts-proto code, so reflection can never drift from the handlers.
 */
import { ReflectionService } from '@grpc/reflection';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import type { PackageDefinition } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { braidFileDescriptorSetBase64 } from '@braid/proto';

let cached: PackageDefinition | undefined;

/** The package definition of everything a Braid server exposes. */
export function braidPackageDefinition(): PackageDefinition {
  cached ??= {
    ...loadFileDescriptorSetFromBuffer(Buffer.from(braidFileDescriptorSetBase64, 'base64')),
    ...loadSync(healthProtoPath),
  };
  return cached;
}

/** A reflection service (v1 and v1alpha) for the Braid contract. */
export function createReflectionService(): ReflectionService {
  return new ReflectionService(braidPackageDefinition());
}
