/**
 * What every Braid package shares: the error model (one base class, one
 * subclass per condition, one table mapping conditions to gRPC codes),
 * injected time and randomness, the logging interface, and name rules.
 *
 * @packageDocumentation
 */
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { Random } from './random.js';
export { systemRandom, seededRandom } from './random.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export * from './errors.js';
export {
  errorTrailers,
  errorDetailOf,
  toGrpcStatus,
  toStreamError,
  fromGrpcError,
  fromStreamError,
  isServiceError,
} from './grpc-status.js';
export { assertValidName, maxNameLength } from './names.js';
export { dropConsumed } from './consumed-prefix.js';
