import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  MemoryPressureError,
  NotLeaderError,
  RecordTooLargeError,
  TopicNotFoundError,
  errorTable,
} from './errors.js';
import { errorTrailers, fromGrpcError, fromStreamError, toGrpcStatus, toStreamError } from './grpc-status.js';

function asServiceError(statusObject: ReturnType<typeof toGrpcStatus>): ServiceError {
  return Object.assign(new Error(`${statusObject.code} ${statusObject.details}`), statusObject);
}

describe('grpc status mapping', () => {
  it('maps every condition to its code, and the detail survives the round trip', () => {
    const error = new MemoryPressureError(600, 512, 250);
    const sent = toGrpcStatus(error);
    expect(sent.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(sent.metadata.get(errorTrailers.reason)).toEqual(['MEMORY_PRESSURE']);
    expect(sent.metadata.get(errorTrailers.retryAfterMs)).toEqual(['250']);

    const received = fromGrpcError(asServiceError(sent));
    expect(received.reason).toBe('MEMORY_PRESSURE');
    expect(received.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(received.retriable).toBe(true);
    expect(received.retryAfterMs).toBe(250);
    expect(received.message).toContain('memory watermark');
  });

  it('carries the leader address of NOT_LEADER', () => {
    const received = fromGrpcError(asServiceError(toGrpcStatus(new NotLeaderError('t', 3, '10.0.0.2:7401'))));
    expect(received.code).toBe(Status.FAILED_PRECONDITION);
    expect(received.leaderAddress).toBe('10.0.0.2:7401');
    expect(received.metadata).toEqual({ topic: 't', partition: '3' });
  });

  it('turns anything that is not a BraidError into INTERNAL, never UNKNOWN', () => {
    const sent = toGrpcStatus(new TypeError('boom'));
    expect(sent.code).toBe(Status.INTERNAL);
    expect(sent.details).toContain('boom');
    expect(toGrpcStatus('a string').code).toBe(Status.INTERNAL);
  });

  it('classifies statuses without Braid detail by their code', () => {
    const bare = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: Status.UNAVAILABLE,
      details: 'No connection established',
      metadata: new Metadata(),
    });
    const received = fromGrpcError(bare);
    expect(received.reason).toBe('UNAVAILABLE');
    expect(received.retriable).toBe(true);
    const invalid = fromGrpcError(Object.assign(new Error('x'), { code: Status.INVALID_ARGUMENT, details: 'x', metadata: new Metadata() }));
    expect(invalid.retriable).toBe(false);
  });

  it('survives a corrupt detail trailer', () => {
    const metadata = new Metadata();
    metadata.set(errorTrailers.detail, Buffer.from([0xff, 0xff, 0xff]));
    const received = fromGrpcError(Object.assign(new Error('x'), { code: Status.NOT_FOUND, details: 'gone', metadata }));
    expect(received.code).toBe(Status.NOT_FOUND);
    expect(received.message).toBe('gone');
  });

  it('round-trips stream errors', () => {
    const streamError = toStreamError(new RecordTooLargeError('t', 2000, 1000));
    expect(streamError.code).toBe(Status.INVALID_ARGUMENT);
    const back = fromStreamError(streamError);
    expect(back.reason).toBe('RECORD_TOO_LARGE');
    expect(back.metadata.limit).toBe('1000');
    expect(fromStreamError({ code: 999, message: 'odd', detail: undefined }).code).toBe(Status.UNKNOWN);
  });

  it('has a retriable flag that matches the code for the generic conditions', () => {
    expect(errorTable.UNAVAILABLE.retriable).toBe(true);
    expect(errorTable.INVALID_ARGUMENT.retriable).toBe(false);
    expect(new TopicNotFoundError('x').code).toBe(Status.NOT_FOUND);
  });
});
