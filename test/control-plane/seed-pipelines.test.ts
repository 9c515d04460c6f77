import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, BACKENDS, freshDatabase, query, startServer, waitForRun, type TestServer } from './helpers.js';

// The seed's cleaning_transformations, verbatim.
const cleaningTransformations = [
  {
    type: 'clean',
    config: {
      remove_duplicates: true,
      duplicate_columns: ['resource_id'],
      missing_values: { strategy: 'fill', fill_values: { compliance_status: 'unknown', cost: 0.0 } },
      remove_outliers: true,
      outlier_columns: ['cost', 'cpu_utilization'],
    },
  },
];

// The seed's governance_etl document; only the extract query is SQL instead of Resource Graph KQL.
const governanceEtl = {
  pipeline_id: 'governance_etl',
  name: 'Governance Data ETL',
  steps: [
    {
      id: 'extract_azure',
      name: 'Extract from Azure',
      type: 'extract',
      config: {
        source: 'azure_resource_graph',
        query: "SELECT * FROM resources WHERE type = 'Microsoft.Compute/virtualMachines' ORDER BY seq",
      },
    },
    {
      id: 'transform_data',
      name: 'Clean and Transform',
      type: 'transform',
      depends_on: ['extract_azure'],
      config: { input_step: 'extract_azure', transformations: cleaningTransformations },
    },
    {
      id: 'load_warehouse',
      name: 'Load to Warehouse',
      type: 'load',
      depends_on: ['transform_data'],
      config: { input_step: 'transform_data', target: 'data_warehouse', table_name: 'vm_inventory', mode: 'replace' },
    },
  ],
};

// The seed's data_quality_check document, verbatim.
const dataQualityCheck = {
  pipeline_id: 'data_quality_check',
  name: 'Data Quality Validation',
  steps: [
    {
      id: 'extract_data',
      name: 'Extract Data for Validation',
      type: 'extract',
      config: { source: 'governance_db', query: 'SELECT * FROM compliance_resources' },
    },
    {
      id: 'validate_quality',
      name: 'Validate Data Quality',
      type: 'validate',
      depends_on: ['extract_data'],
      config: {
        input_step: 'extract_data',
        validation_rules: [
          { name: 'required_fields', type: 'not_null', columns: ['resource_id', 'compliance_status'] },
          { name: 'unique_resources', type: 'unique', columns: ['resource_id'] },
          { name: 'valid_cost_range', type: 'range', column: 'monthly_cost', min_value: 0, max_value: 1000000 },
        ],
      },
    },
  ],
};

describe.each(BACKENDS)("the seed's pipelines end to end against PostgreSQL (%s state)", (backend) => {
  let server: TestServer;
  let source: { url: string; drop: () => Promise<void> };
  let warehouse: { url: string; drop: () => Promise<void> };

  const inject = (method: string, url: string, payload?: object) =>
    server.app.inject({ method: method as 'GET', url, payload, headers: auth('admin') });
  const connect = async (name: string, url: string) => {
    const response = await inject('POST', '/api/v1/datasources/connect', { name, type: 'postgresql', config: { url } });
    expect(response.statusCode, response.body).toBe(201);
  };

  beforeAll(async () => {
    server = await startServer(backend);
    source = await freshDatabase('sluice_seed_src');
    warehouse = await freshDatabase('sluice_seed_wh');
    await query(
      source.url,
      `create table resources (seq int, resource_id text, type text, compliance_status text, cost double precision, cpu_utilization double precision)`,
    );
    const vm = 'Microsoft.Compute/virtualMachines';
    const rows: Array<[number, string, string, string | null, number | null, number]> = [
      [1, 'vm-1', vm, 'compliant', 20, 35],
      [2, 'vm-2', vm, null, 30, 40],
      [3, 'vm-1', vm, 'noncompliant', 99, 41], // duplicate of vm-1: the first one stays
      [4, 'vm-3', vm, 'compliant', null, 45],
      [5, 'vm-4', vm, 'noncompliant', 40, 50],
      [6, 'vm-5', vm, 'compliant', 1_000_000, 55], // cost outlier
      [7, 'vm-6', vm, 'compliant', 50, 60],
      [8, 'vm-7', vm, 'compliant', 60, 5000], // cpu outlier
      [9, 'vm-8', vm, 'compliant', 70, 65],
      [10, 'vm-9', vm, 'compliant', 80, 70],
      [11, 'sa-1', 'Microsoft.Storage/storageAccounts', 'compliant', 10, 0], // not a VM
    ];
    for (const r of rows) await query(source.url, 'insert into resources values ($1, $2, $3, $4, $5, $6)', r);
    await query(source.url, 'create table compliance_resources (resource_id text, compliance_status text, monthly_cost numeric)');
    await query(
      source.url,
      `insert into compliance_resources values ('r1', 'compliant', 10), ('r2', null, 20), ('r2', 'compliant', -5), (null, 'unknown', 2000000), ('r4', 'compliant', 1000000)`,
    );
    await connect('azure_resource_graph', source.url);
    await connect('governance_db', source.url);
    await connect('data_warehouse', warehouse.url);
  });
  afterAll(async () => {
    await server?.close();
    await source?.drop();
    await warehouse?.drop();
  });

  it('governance_etl: extract, clean (duplicates, fills, outliers) and an atomic replace into vm_inventory', async () => {
    expect((await inject('POST', '/api/v1/pipelines', governanceEtl)).statusCode).toBe(201);
    const run = await waitForRun(server.app, (await inject('POST', '/api/v1/pipelines/governance_etl/run')).json().run_id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    const target = await query<{ resource_id: string; compliance_status: string; cost: number; cpu_utilization: number }>(
      warehouse.url,
      'select resource_id, compliance_status, cost, cpu_utilization from vm_inventory order by resource_id',
    );
    expect(target).toEqual([
      { resource_id: 'vm-1', compliance_status: 'compliant', cost: 20, cpu_utilization: 35 },
      { resource_id: 'vm-2', compliance_status: 'unknown', cost: 30, cpu_utilization: 40 },
      { resource_id: 'vm-3', compliance_status: 'compliant', cost: 0, cpu_utilization: 45 },
      { resource_id: 'vm-4', compliance_status: 'noncompliant', cost: 40, cpu_utilization: 50 },
      { resource_id: 'vm-6', compliance_status: 'compliant', cost: 50, cpu_utilization: 60 },
      { resource_id: 'vm-8', compliance_status: 'compliant', cost: 70, cpu_utilization: 65 },
      { resource_id: 'vm-9', compliance_status: 'compliant', cost: 80, cpu_utilization: 70 },
    ]);
    const steps = Object.fromEntries((run.steps as Array<{ step_id: string; rows_out: number }>).map((s) => [s.step_id, s.rows_out]));
    expect(steps).toEqual({ extract_azure: 10, transform_data: 7, load_warehouse: 7 });

    // A replace that fails half way (a NOT NULL the target declares) leaves the table as it was.
    await query(warehouse.url, 'alter table vm_inventory alter column compliance_status set not null');
    const failing = {
      pipeline_id: 'raw_replace',
      settings: { batch_size: 2, retries: 0 },
      steps: [
        { id: 'extract', type: 'extract', config: { source: 'azure_resource_graph', query: 'SELECT * FROM resources ORDER BY seq DESC' } },
        {
          id: 'load',
          type: 'load',
          depends_on: ['extract'],
          config: { target: 'data_warehouse', table_name: 'vm_inventory', mode: 'replace' },
        },
      ],
    };
    await inject('POST', '/api/v1/pipelines', failing);
    const failed = await waitForRun(server.app, (await inject('POST', '/api/v1/pipelines/raw_replace/run')).json().run_id);
    expect(failed.status).toBe('failed');
    // The null sits in the fifth batch of two rows: four batches were staged before it failed.
    expect(String(failed.error)).toMatch(/null/i);
    const after = await query<{ resource_id: string }>(warehouse.url, 'select resource_id from vm_inventory order by resource_id');
    expect(after.map((r) => r.resource_id)).toEqual(['vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-6', 'vm-8', 'vm-9']);
  });

  it('data_quality_check: the validation report counts every violation', async () => {
    expect((await inject('POST', '/api/v1/pipelines', dataQualityCheck)).statusCode).toBe(201);
    const run = await waitForRun(server.app, (await inject('POST', '/api/v1/pipelines/data_quality_check/run')).json().run_id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    const validate = (
      run.steps as Array<{
        step_id: string;
        result: { passed: boolean; rows: number; rules: Array<{ name: string; violations: number; passed: boolean }> };
      }>
    ).find((s) => s.step_id === 'validate_quality')!;
    expect(validate.result.passed).toBe(false);
    expect(validate.result.rows).toBe(5);
    expect(Object.fromEntries(validate.result.rules.map((r) => [r.name, r.violations]))).toEqual({
      required_fields: 2,
      unique_resources: 1,
      valid_cost_range: 2,
    });
  });

  it('templates build runnable pipelines from the same datasources', async () => {
    const created = await inject('POST', '/api/v1/pipelines/template/etl_basic', {
      pipeline_id: 'my_etl',
      source: 'governance_db',
      query: "SELECT * FROM compliance_resources WHERE compliance_status = 'compliant'",
      target: 'data_warehouse',
      table_name: 'compliant_resources',
      transformations: cleaningTransformations.map((t) => ({
        ...t,
        config: { remove_duplicates: true, duplicate_columns: ['resource_id'] },
      })),
    });
    expect(created.statusCode, created.body).toBe(201);
    const run = await waitForRun(server.app, (await inject('POST', '/api/v1/pipelines/my_etl/run')).json().run_id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    const rows = await query<{ resource_id: string }>(warehouse.url, 'select resource_id from compliant_resources order by resource_id');
    expect(rows.map((r) => r.resource_id)).toEqual(['r1', 'r2', 'r4']);
  });
});
