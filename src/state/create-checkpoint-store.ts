import type { CheckpointStore } from '../core/ports.js';
import type { CheckpointConfig } from './checkpoint-config.js';
import { FileCheckpointStore } from './file-checkpoint-store.js';
import { RedisCheckpointStore } from './redis-checkpoint-store.js';

export function createCheckpointStore(config: CheckpointConfig): CheckpointStore {
  return config.store === 'redis' ? new RedisCheckpointStore(config.url, config.key_prefix) : new FileCheckpointStore(config.path);
}
