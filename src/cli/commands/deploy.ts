import { parseArgs } from 'node:util';
import { SluiceError } from '../../core/errors.js';
import { loadTopologyFile } from '../../topology/load.js';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../main.js';
import { writeOut } from '../output.js';
import { clientOptions, request } from './control-plane-client.js';

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'push a pipeline document to the control plane (create or new version)',
  usage: `Usage: sluice deploy <file> [--url http://127.0.0.1:8008] [--key <api key>]

Loads a pipeline document (.ts default export, .yaml, .yml or .json; the seed's shape with
pipeline_id and steps) and creates it on the control plane, or stores it as a new version when
it exists. The server validates it and reports every problem with its path.
--url and --key default to SLUICE_URL and SLUICE_API_KEY.`,
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { url: { type: 'string' }, key: { type: 'string' } },
    });
    if (positionals.length !== 1) {
      writeOut(`${this.usage}\n`);
      return EXIT.usage;
    }
    const document = (await loadTopologyFile(positionals[0])) as { pipeline_id?: unknown; steps?: unknown };
    if (typeof document?.pipeline_id !== 'string' || !Array.isArray(document.steps)) {
      throw new SluiceError(
        'SLUICE_TOPOLOGY_INVALID',
        `${positionals[0]}: not a pipeline document (needs pipeline_id and steps); run streaming topologies with 'sluice run'`,
        {
          issues: [{ path: 'pipeline_id', message: 'required' }],
        },
      );
    }
    const client = clientOptions(values);
    const id = encodeURIComponent(document.pipeline_id);
    const existing = await request(client, 'GET', `/api/v1/pipelines/${id}`);
    const saved =
      existing.status === 404
        ? await request<{ version: number }>(client, 'POST', '/api/v1/pipelines', document)
        : await request<{ version: number }>(client, 'PUT', `/api/v1/pipelines/${id}`, document);
    writeOut(`pipeline '${document.pipeline_id}' ${existing.status === 404 ? 'created' : 'updated'}: version ${saved.body.version}\n`);
    return EXIT.ok;
  },
};
