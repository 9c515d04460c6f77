import { describe, expect, it } from 'vitest';
import { RedisCheckpointStore } from '../../src/state/redis-checkpoint-store.js';
import { closedPort, silentServer } from '../support/unresponsive-servers.js';

describe('redis checkpoint store', () => {
  it('a Redis that never answers fails the call with a retriable SLUICE_CHECKPOINT_FAILED', async () => {
    const silent = await silentServer();
    const store = new RedisCheckpointStore(`redis://127.0.0.1:${silent.port}`, 'sluice:test:', { commandTimeoutMs: 200 });
    try {
      await expect(store.put('topo', 'p0', 1)).rejects.toMatchObject({ code: 'SLUICE_CHECKPOINT_FAILED', retriable: true });
    } finally {
      await store.close();
      await silent.close();
    }
  });

  it('a Redis that refuses connections fails the call with a retriable SLUICE_CHECKPOINT_FAILED', async () => {
    const store = new RedisCheckpointStore(`redis://127.0.0.1:${await closedPort()}`);
    try {
      await expect(store.put('topo', 'p0', 1)).rejects.toMatchObject({ code: 'SLUICE_CHECKPOINT_FAILED', retriable: true });
    } finally {
      await store.close();
    }
  });
});
