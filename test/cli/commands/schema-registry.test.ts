import { afterAll, describe, expect, it } from 'vitest';
import { startSluice } from '../../support/cli.js';
import { until, uniqueName, withAdmin } from '../../connectors/kafka/kafka-helpers.js';

describe('sluice schema-registry', () => {
  const topic = uniqueName('_schemas-cli');
  afterAll(() => withAdmin((admin) => admin.deleteTopics({ topics: [topic] })));

  it('serves the registry API until SIGTERM, then exits 0', async () => {
    const { child, done } = startSluice(['schema-registry', '--port', '0', '--topic', topic]);
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    try {
      await until('the listening line', () => /listening on (http:\/\/\S+)/.test(stdout), 60_000);
      const url = /listening on (http:\/\/\S+)/.exec(stdout)![1];
      const schema = JSON.stringify({ type: 'record', name: 'Cli', fields: [{ name: 'a', type: 'int' }] });
      const registered = await fetch(`${url}/subjects/cli-value/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema }),
      });
      expect(registered.status).toBe(200);
      const { id } = (await registered.json()) as { id: number };
      expect(await (await fetch(`${url}/subjects`)).json()).toEqual(['cli-value']);
      expect(((await (await fetch(`${url}/schemas/ids/${id}`)).json()) as { schema: string }).schema).toBe(schema);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await done).code).toBe(0);
  });

  it('rejects a bad port as a usage error', async () => {
    const { done } = startSluice(['schema-registry', '--port', 'eighty']);
    expect((await done).code).toBe(2);
  });
});
