import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { buildApp, type AppOptions, type SluiceApp } from '../../src/control-plane/app.js';

export const PGURL = process.env.PGURL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const KEYS = { admin: 'admin-key-0001', operator: 'operator-key-0001', viewer: 'viewer-key-0001' } as const;
export const API_KEYS = `${KEYS.admin}:admin,${KEYS.operator}:operator,${KEYS.viewer}:viewer`;
export const SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
export const silent = pino({ level: 'silent' });

export type Backend = 'pglite' | 'postgresql';
export const BACKENDS: Backend[] = ['pglite', 'postgresql'];

/** A fresh PostgreSQL database; fails (never skips) when the server is not reachable. */
export async function freshDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(PGURL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PGURL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface TestServer {
  app: SluiceApp;
  stateDir: string;
  databaseUrl?: string;
  options: AppOptions;
  /** Closes the app and builds a new one over the same state (a restart). */
  restart(): Promise<SluiceApp>;
  close(): Promise<void>;
}

/** A control plane over a fresh state store of the given backend. */
export async function startServer(backend: Backend, options: AppOptions = {}): Promise<TestServer> {
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-cp-'));
  const db = backend === 'postgresql' ? await freshDatabase('sluice_cp') : undefined;
  const full: AppOptions = {
    stateDir,
    databaseUrl: db?.url,
    apiKeys: API_KEYS,
    env: { SLUICE_SECRET_KEY: SECRET_KEY, ...process.env, SLUICE_DATABASE_URL: undefined },
    logger: silent,
    rateLimitPerMinute: 1_000_000,
    retryDelayMs: 10,
    ...options,
  };
  const server: TestServer = {
    app: await buildApp(full),
    stateDir,
    databaseUrl: db?.url,
    options: full,
    restart: async () => {
      await server.app.close();
      server.app = await buildApp(full);
      return server.app;
    },
    close: async () => {
      await server.app.close();
      await db?.drop();
    },
  };
  return server;
}

export function auth(role: keyof typeof KEYS = 'admin'): Record<string, string> {
  return { authorization: `Bearer ${KEYS[role]}` };
}

/** Polls a run until it leaves queued/running. */
export async function waitForRun(app: SluiceApp, runId: string): Promise<Record<string, unknown>> {
  await app.controlPlane.runs.wait(runId);
  const response = await app.inject({ method: 'GET', url: `/api/v1/pipelines/runs/${runId}`, headers: auth('viewer') });
  return response.json();
}
