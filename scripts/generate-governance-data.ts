/**
 * Writes the quickstart's governance dataset: Azure-like resources with realistic dirt
 * (exact duplicates, missing values, cost outliers, a few malformed lines), deterministic for a
 * seed, streamed to disk. Also writes `<file>.manifest.json` with what was injected.
 *
 *   node --import tsx scripts/generate-governance-data.ts [--rows 200000] [--seed 42] [--out data/generated/resources.csv]
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { prng } from './prng.js';

export interface DatasetManifest {
  rows: number;
  seed: number;
  /** Data lines in the file, malformed ones included (the header excluded). */
  lines: number;
  duplicates: number;
  malformed: number;
  missingCost: number;
  outliers: number;
}

const REGIONS = ['eastus', 'eastus2', 'westus2', 'westeurope', 'northeurope', 'uksouth', 'southeastasia', 'japaneast'];
const TYPES: Array<[string, number, boolean]> = [
  // type, typical monthly cost, reports CPU
  ['Microsoft.Compute/virtualMachines', 180, true],
  ['Microsoft.Storage/storageAccounts', 45, false],
  ['Microsoft.Sql/servers/databases', 320, true],
  ['Microsoft.Web/sites', 70, true],
  ['Microsoft.Network/publicIPAddresses', 4, false],
  ['Microsoft.ContainerService/managedClusters', 900, true],
  ['Microsoft.KeyVault/vaults', 6, false],
];
const STATUSES = ['compliant', 'compliant', 'compliant', 'non_compliant', 'exempt'];
const HEADER = 'resource_id,resource_group,region,resource_type,compliance_status,monthly_cost,cpu_utilization,last_modified';

export async function generateGovernanceData(out: string, rows: number, seed: number): Promise<DatasetManifest> {
  const random = prng(seed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const manifest: DatasetManifest = { rows, seed, lines: 0, duplicates: 0, malformed: 0, missingCost: 0, outliers: 0 };
  await mkdir(dirname(out), { recursive: true });
  const stream = createWriteStream(out);
  const write = async (line: string) => {
    if (!stream.write(`${line}\n`)) await once(stream, 'drain');
  };
  await write(HEADER);
  const recent: string[] = [];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < rows; i++) {
    const roll = random();
    if (roll < 0.0001) {
      manifest.malformed++;
      manifest.lines++;
      await write(random() < 0.5 ? `res-${i},"broken,${pick(REGIONS)}` + '"' + ',x' : `###,${i}`);
      continue;
    }
    if (roll < 0.02 && recent.length > 0) {
      manifest.duplicates++;
      manifest.lines++;
      await write(pick(recent));
      continue;
    }
    const [type, cost, hasCpu] = pick(TYPES);
    const group = `rg-${pick(['finance', 'platform', 'data', 'web', 'security', 'ml'])}-${Math.floor(random() * 40)}`;
    const subscription = `sub-${Math.floor(random() * 12)
      .toString()
      .padStart(2, '0')}`;
    const name = `${type.split('/').at(-1)!.toLowerCase()}-${i.toString(36)}`;
    const resourceId = `/subscriptions/${subscription}/resourceGroups/${group}/providers/${type}/${name}`;
    const status = random() < 0.03 ? '' : pick(STATUSES);
    let monthly = (cost * (0.3 + random() * 1.4)).toFixed(2);
    if (random() < 0.03) {
      monthly = '';
      manifest.missingCost++;
    } else if (random() < 0.004) {
      monthly = (cost * (80 + random() * 200)).toFixed(2);
      manifest.outliers++;
    }
    const cpu = hasCpu && random() > 0.02 ? (random() * 100).toFixed(1) : '';
    const modified = new Date(start + Math.floor(random() * 330 * 86_400_000)).toISOString();
    const line = [resourceId, group, pick(REGIONS), type, status, monthly, cpu, modified].join(',');
    recent.push(line);
    if (recent.length > 500) recent.shift();
    manifest.lines++;
    await write(line);
  }
  stream.end();
  await once(stream, 'finish');
  await writeFile(`${out}.manifest.json`, JSON.stringify(manifest, null, 2));
  return manifest;
}

/** Generates unless the same dataset (rows and seed) is already there. */
export async function ensureGovernanceData(out: string, rows: number, seed: number): Promise<DatasetManifest> {
  try {
    const existing = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8')) as DatasetManifest;
    if (existing.rows === rows && existing.seed === seed) return existing;
  } catch {
    // not generated yet
  }
  return generateGovernanceData(out, rows, seed);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '200000' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string', default: 'data/generated/resources.csv' },
    },
  });
  const manifest = await ensureGovernanceData(values.out!, Number(values.rows), Number(values.seed));
  process.stderr.write(
    `dataset ${values.out}: ${manifest.lines} lines (${manifest.duplicates} duplicates, ${manifest.malformed} malformed, ${manifest.missingCost} missing costs, ${manifest.outliers} outliers)\n`,
  );
}
