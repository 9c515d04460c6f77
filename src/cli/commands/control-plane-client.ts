import { SluiceError } from '../../core/errors.js';

export interface ClientOptions {
  url: string;
  key?: string;
}

/** The control plane URL and key from flags or `SLUICE_URL` / `SLUICE_API_KEY`. */
export function clientOptions(values: { url?: string; key?: string }): ClientOptions {
  return {
    url: (values.url ?? process.env.SLUICE_URL ?? 'http://127.0.0.1:8008').replace(/\/$/, ''),
    key: values.key ?? process.env.SLUICE_API_KEY,
  };
}

/** Calls the REST API; a non-2xx answer throws with the server's error message and fields. */
export async function request<T>(
  client: ClientOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${client.url}${path}`, {
    method,
    headers: {
      ...(client.key ? { authorization: `Bearer ${client.key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: unknown) => {
    throw new SluiceError('SLUICE_CONNECTION_FAILED', `cannot reach the control plane at ${client.url}: ${(error as Error).message}`, {
      cause: error,
    });
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok && response.status !== 404) throw apiError(response.status, parsed);
  return { status: response.status, body: parsed as T };
}

export function apiError(status: number, body: unknown): SluiceError {
  const error = (body as { error?: { message?: string; issues?: Array<{ path: string; message: string }> } })?.error;
  const issues = error?.issues ?? [];
  const detail = issues.map((i) => `\n  ${i.path}: ${i.message}`).join('');
  return new SluiceError(
    status === 400 ? 'SLUICE_CONFIG_INVALID' : 'SLUICE_CONNECTION_FAILED',
    `HTTP ${status}: ${error?.message ?? 'request failed'}${detail}`,
    { issues },
  );
}

/** Reads a Server-Sent Events stream, calling `onEvent` per event until the server ends it. */
export async function followEvents(client: ClientOptions, path: string, onEvent: (event: string, data: unknown) => void): Promise<void> {
  const response = await fetch(`${client.url}${path}`, { headers: client.key ? { authorization: `Bearer ${client.key}` } : {} });
  if (!response.ok || !response.body) throw apiError(response.status, await response.json().catch(() => undefined));
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data !== undefined) onEvent(event, JSON.parse(data));
    }
  }
}
