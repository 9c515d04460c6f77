import { createRequire } from 'node:module';
import { KafkaJSConnectionError, KafkaJSNonRetriableError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { commitFailureOf, commitRetryPolicy } from '../../../src/connectors/kafka/commit-errors.js';

// kafkajs's own broker-answer table and retrier, so the errors are wrapped exactly as a commit sees them.
const require = createRequire(import.meta.url);
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };
const createRetry = require('kafkajs/src/retry/index.js') as (options: object) => (fn: () => Promise<unknown>) => Promise<unknown>;

const CODES = {
  REQUEST_TIMED_OUT: 7,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  GROUP_AUTHORIZATION_FAILED: 30,
};

/** What a commit rejects with after kafkajs's retrier gave up on `error`. */
async function afterKafkajsRetries(error: Error): Promise<unknown> {
  const retrier = createRetry({ retries: 1, initialRetryTime: 1, maxRetryTime: 1 });
  return retrier(() => Promise.reject(error)).catch((e: unknown) => e);
}

describe('kafka offset commit failures', () => {
  it.each([
    ['coordinator not available', CODES.COORDINATOR_NOT_AVAILABLE],
    ['not coordinator', CODES.NOT_COORDINATOR],
    ['coordinator loading', CODES.COORDINATOR_LOAD_IN_PROGRESS],
    ['request timed out', CODES.REQUEST_TIMED_OUT],
  ])('%s is transient, also once kafkajs gave up retrying it', async (_, code) => {
    expect(commitFailureOf(createErrorFromCode(code))).toBe('transient');
    expect(commitFailureOf(await afterKafkajsRetries(createErrorFromCode(code)))).toBe('transient');
  });

  it('a broker that cannot be reached is transient', async () => {
    expect(
      commitFailureOf(await afterKafkajsRetries(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))),
    ).toBe('transient');
  });

  it.each([
    ['rebalance in progress', CODES.REBALANCE_IN_PROGRESS],
    ['illegal generation', CODES.ILLEGAL_GENERATION],
    ['unknown member', CODES.UNKNOWN_MEMBER_ID],
  ])('%s is a rebalance, also wrapped by kafkajs', async (_, code) => {
    expect(commitFailureOf(createErrorFromCode(code))).toBe('rebalance');
    expect(commitFailureOf(await afterKafkajsRetries(createErrorFromCode(code)))).toBe('rebalance');
  });

  it('an authorization failure or an invalid offset is fatal', async () => {
    expect(commitFailureOf(await afterKafkajsRetries(createErrorFromCode(CODES.GROUP_AUTHORIZATION_FAILED)))).toBe('fatal');
    expect(commitFailureOf(new KafkaJSNonRetriableError('Offset must not be a negative number'))).toBe('fatal');
    expect(commitFailureOf(new Error('boom'))).toBe('fatal');
  });

  it('the policy retries transient failures until the commit succeeds, and never a fatal one', async () => {
    let calls = 0;
    const committed = await commitRetryPolicy().execute(async () => {
      if (++calls < 3) throw await afterKafkajsRetries(createErrorFromCode(CODES.NOT_COORDINATOR));
      return 'committed';
    });
    expect([committed, calls]).toEqual(['committed', 3]);

    let fatalCalls = 0;
    const fatal = createErrorFromCode(CODES.GROUP_AUTHORIZATION_FAILED);
    await expect(
      commitRetryPolicy().execute(async () => {
        fatalCalls++;
        throw fatal;
      }),
    ).rejects.toBe(fatal);
    expect(fatalCalls).toBe(1);
  });
});
