import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';

/** Coordinator answers meaning this member lost (or is losing) its partitions. */
const REBALANCE_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/**
 * What a failed offset commit means:
 * - `rebalance`: this member lost the partition; skip the commit, its new owner commits.
 * - `transient`: the coordinator moved or is loading, a request timed out, the broker restarts.
 * - `fatal`: anything else (authorization, an invalid offset).
 *
 * kafkajs retries retriable answers itself, then wraps the last one (KafkaJSNumberOfRetriesExceeded)
 * or a non-retriable one (KafkaJSNonRetriableError) with the broker's answer as `cause`. Like
 * kafkajs's own rule for restarting a consumer, exhausted retries and a retriable answer are transient.
 */
export function commitFailureOf(error: unknown): 'rebalance' | 'transient' | 'fatal' {
  const chain = causesOf(error);
  if (chain.some((e) => typeof e.type === 'string' && REBALANCE_ERRORS.has(e.type))) return 'rebalance';
  if (chain.some((e) => e.name === 'KafkaJSNumberOfRetriesExceeded') || chain.at(-1)?.retriable === true) return 'transient';
  return 'fatal';
}

/** Retries transient commit failures with backoff, long enough to outlast a broker restart (about a minute). */
export function commitRetryPolicy(): RetryPolicy {
  return retry(
    handleWhen((error) => commitFailureOf(error) === 'transient'),
    { maxAttempts: 8, backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 10_000 }) },
  );
}

interface KafkaErrorFields {
  name?: string;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
}

/** The error, then its causes, outermost first (bounded: a cause chain could loop). */
function causesOf(error: unknown): KafkaErrorFields[] {
  const chain: KafkaErrorFields[] = [];
  for (let e = error; e !== null && typeof e === 'object' && chain.length < 10; e = (e as KafkaErrorFields).cause) {
    if (chain.includes(e)) break;
    chain.push(e);
  }
  return chain;
}
