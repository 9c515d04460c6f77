import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { SluiceError, errorMessage, isRetriable } from '../../core/errors.js';
import type { Datasource } from './connection-metrics.js';

const breakerSchema = Type.Object(
  {
    threshold: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 5,
        description: 'Consecutive retriable failures (connects, writes) that open the circuit of the datasource',
      }),
    ),
    half_open_after_ms: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 30_000,
        description: 'How long an open circuit fails calls at once before it lets one through; its success closes the circuit',
      }),
    ),
  },
  { default: {}, additionalProperties: false },
);

/**
 * The `resilience` field a connector includes in its config schema: how connects are retried
 * and when the circuit breaker of the datasource opens.
 *
 * @example
 * resilience: { retries: 3, backoff_ms: 500, breaker: { threshold: 5, half_open_after_ms: 30000 } }
 */
export const resilienceSchema = Type.Object(
  {
    retries: Type.Optional(
      Type.Integer({ minimum: 0, default: 2, description: 'Retries of a connection attempt that failed with a retriable error' }),
    ),
    backoff_ms: Type.Optional(
      Type.Integer({ minimum: 1, default: 200, description: 'Delay before the first retry; it doubles with each retry, up to 5 s' }),
    ),
    breaker: Type.Optional(breakerSchema),
  },
  {
    default: {},
    additionalProperties: false,
    description: 'Retry with backoff and a circuit breaker per datasource, shared by every node of the process that uses it',
    examples: [{ retries: 3, backoff_ms: 500, breaker: { threshold: 5, half_open_after_ms: 30_000 } }],
  },
);

/** The `resilience` field of a connector whose driver retries connects itself (kafkajs): the breaker only. */
export const breakerOnlySchema = Type.Object(
  { breaker: Type.Optional(breakerSchema) },
  {
    default: {},
    additionalProperties: false,
    description: 'A circuit breaker per datasource (the driver retries connects itself), shared by every node of the process that uses it',
    examples: [{ breaker: { threshold: 5, half_open_after_ms: 30_000 } }],
  },
);

export type ResilienceSettings = Static<typeof resilienceSchema>;

/** Settings with every default filled in. */
interface Resolved {
  retries: number;
  backoff_ms: number;
  breaker: { threshold: number; half_open_after_ms: number };
}

/** One breaker per datasource and settings, shared by every source and sink of the process. */
const breakers = new Map<string, CircuitBreakerPolicy>();

function breakerOf(datasource: Datasource, settings: Resolved['breaker']): CircuitBreakerPolicy {
  const key = JSON.stringify([datasource.connector, datasource.name, settings.threshold, settings.half_open_after_ms]);
  let breaker = breakers.get(key);
  if (!breaker) {
    breaker = circuitBreaker(handleWhen(isRetriable), {
      halfOpenAfter: settings.half_open_after_ms,
      breaker: new ConsecutiveBreaker(settings.threshold),
    });
    breakers.set(key, breaker);
  }
  return breaker;
}

/**
 * The policies of one datasource: `connect` retries retriable failures with exponential backoff,
 * each attempt through the datasource's circuit breaker; `call` (a write, a request) goes
 * through the breaker only, as the runtime retries writes itself. An open circuit fails at once
 * with SLUICE_CIRCUIT_OPEN (retriable: a later attempt may find the datasource back), naming the
 * datasource and its last failure; it is not retried.
 */
export class Resilience {
  readonly breaker: CircuitBreakerPolicy;
  private readonly connects: IPolicy;

  constructor(
    readonly datasource: Datasource,
    settings?: ResilienceSettings,
  ) {
    const resolved = Value.Default(resilienceSchema, structuredClone(settings ?? {})) as Resolved;
    this.breaker = breakerOf(datasource, resolved.breaker);
    const retries = retry(handleWhen(isRetriable), {
      maxAttempts: resolved.retries,
      backoff: new ExponentialBackoff({ initialDelay: resolved.backoff_ms, maxDelay: 5_000 }),
    });
    this.connects = wrap(retries, this.breaker);
  }

  connect<T>(open: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.run(this.connects, open, signal);
  }

  call<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.run(this.breaker, fn, signal);
  }

  private async run<T>(policy: IPolicy, fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await policy.execute(fn, signal);
    } catch (error) {
      if (!(error instanceof BrokenCircuitError)) throw error;
      const last = this.breaker.lastFailure;
      const reason = last && 'error' in last ? `: last failure: ${errorMessage(last.error)}` : '';
      throw new SluiceError(
        'SLUICE_CIRCUIT_OPEN',
        `${this.datasource.connector} ${this.datasource.name}: circuit open after repeated failures, not tried${reason}`,
        {
          cause: error,
        },
      );
    }
  }
}
