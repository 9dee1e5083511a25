/**
 * What the admin commands (`topic`, `subscription`, `broker`, `cluster`) share: the `--timeout`
 * option (the deadline of each call) and running the work with an `Admin`
 * whose failures print `CODE: message` and exit 1.
 */
import { Option } from 'commander';
import { Admin } from '@braid/client';
import type { CliContext } from './context.js';
import { integerIn } from './options.js';

/** Default deadline of an admin call, in ms. */
export const defaultAdminTimeoutMs = 10_000;

/** Parsed `--timeout`. */
export interface TimeoutOption {
  timeout: number;
}

/** `--timeout <ms>`: the deadline of each call. */
export function timeoutOption(): Option {
  return new Option('--timeout <ms>', 'deadline of the call').argParser(integerIn(1)).default(defaultAdminTimeoutMs);
}

/** Runs `work` with an `Admin` for the context's broker; failures print `CODE: message` and exit 1. */
export async function withAdmin(context: CliContext, timeoutMs: number, work: (admin: Admin) => Promise<void>): Promise<void> {
  const admin = new Admin({ brokers: context.broker(), timeoutMs });
  try {
    await work(admin);
  } catch (error) {
    context.failWith(error);
  } finally {
    admin.close();
  }
}
