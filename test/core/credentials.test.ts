import { describe, expect, it } from 'vitest';
import { maskCredentials } from '../../src/core/credentials.js';

describe('maskCredentials: URLs, as the WHATWG parser reads them', () => {
  it.each([
    // [written, shown, labels, values that must be redacted]
    ['postgres://app:p@ss@db.example:5432/orders', 'postgres://app@db.example:5432/orders', ['password'], ['p@ss', 'p%40ss']],
    ['postgres://app:pa:ss:word@db.example/orders', 'postgres://app@db.example/orders', ['password'], ['pa:ss:word', 'pa%3Ass%3Aword']],
    ['postgres://app:p%40ss%3Aw@db.example/orders', 'postgres://app@db.example/orders', ['password'], ['p%40ss%3Aw', 'p@ss:w']],
    ['postgres://app:s3cr3t@[::1]:5432/orders', 'postgres://app@[::1]:5432/orders', ['password'], ['s3cr3t']],
    ['postgres://app:s3cr3t@[2001:db8::7]/orders', 'postgres://app@[2001:db8::7]/orders', ['password'], ['s3cr3t']],
    ['redis://:only-Password@cache.example:6379/0', 'redis://cache.example:6379/0', ['password'], ['only-Password']],
    ['rediss://default:tls-Secret@cache.example:6380', 'rediss://default@cache.example:6380', ['password'], ['tls-Secret']],
    ['https://user:a/b@host.example/path', undefined, ['unparsed URL'], ['a/b']],
    ['postgres://user:12/ab@host.example/db', undefined, ['unparsed URL'], ['12/ab']],
    ['postgres://user:12?ab@host.example/db', undefined, ['unparsed URL'], ['12?ab']],
    ['postgres://user:12#ab@host.example/db', undefined, ['unparsed URL'], ['12#ab']],
    ['postgres://user:pa?ss@host.example/db', undefined, ['unparsed URL'], ['pa?ss']],
    [
      'postgres://app@db.example/orders?sslpassword=k3y-pass&application_name=etl',
      'postgres://app@db.example/orders?application_name=etl',
      ['query sslpassword'],
      ['k3y-pass'],
    ],
    [
      'postgres://db.example/orders?password=x%2By+z&sslmode=require',
      'postgres://db.example/orders?sslmode=require',
      ['query password'],
      ['x%2By+z', 'x+y+z', 'x+y z'],
    ],
    [
      'https://acct.blob.core.windows.net/c/b.csv?sv=2022-11-02&sr=b&sig=AbC%2Bdef%3D',
      'https://acct.blob.core.windows.net/c/b.csv?sv=2022-11-02&sr=b',
      ['query sig'],
      ['AbC%2Bdef%3D', 'AbC+def='],
    ],
    [
      'https://api.example/v1?api_key=abcd1234&access_token=tok-9&page=2',
      'https://api.example/v1?page=2',
      ['query api_key', 'query access_token'],
      ['abcd1234', 'tok-9'],
    ],
    ['mongodb://app:m0ngo-pw@h1:27017,h2:27017/db?replicaSet=rs0', undefined, ['unparsed URL'], ['m0ngo-pw']],
    ['postgres://app:pw-Long@db.example:99999/orders', undefined, ['unparsed URL'], ['pw-Long']],
  ])('%s', (written, shown, labels, values) => {
    const masked = maskCredentials(written);
    expect(masked.text).toBe(shown);
    expect(masked.labels).toEqual(labels);
    expect(masked.values).toEqual(expect.arrayContaining(values));
    for (const value of masked.values) expect(masked.text ?? '').not.toContain(value);
  });

  it.each([
    'postgres://app@db.example/orders',
    'redis://cache.example:6379',
    'http://Host.Example',
    'postgres://db.example/orders?sslmode=require&application_name=etl',
    '${env:PG_URL}',
    'mongodb://h1:27017,h2:27017/db',
    'mongodb://h1:27017,h2:27017/db?replicaSet=rs0',
    'data/orders.csv',
    'select a, b from t where a = 1',
  ])('leaves %s exactly as written', (text) => {
    expect(maskCredentials(text)).toEqual({ text, labels: [], values: [] });
  });
});

describe('maskCredentials: Key=Value; connection strings', () => {
  it('removes an Azure storage AccountKey and keeps the rest', () => {
    const masked = maskCredentials(
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=bXkta2V5LXZhbHVl==;EndpointSuffix=core.windows.net',
    );
    expect(masked).toEqual({
      text: 'DefaultEndpointsProtocol=https;AccountName=acct;EndpointSuffix=core.windows.net',
      labels: ['AccountKey'],
      values: ['bXkta2V5LXZhbHVl=='],
    });
  });

  it('removes a Service Bus SharedAccessKey but keeps SharedAccessKeyName', () => {
    const masked = maskCredentials(
      'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=c2VjcmV0K2tleT0=;',
    );
    expect(masked).toEqual({
      text: 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;',
      labels: ['SharedAccessKey'],
      values: ['c2VjcmV0K2tleT0='],
    });
  });

  it('reads quoted values that hold a ; (ADO.NET and ODBC)', () => {
    const masked = maskCredentials('Server=tcp:sql.example,1433;User ID=app;Password="pa;ss""word";Encrypt=true');
    expect(masked.text).toBe('Server=tcp:sql.example,1433;User ID=app;Encrypt=true');
    expect(masked.values).toEqual(['"pa;ss""word"']);
    const odbc = maskCredentials('Driver={ODBC Driver 18};Server=sql.example;Uid=app;Pwd={br;ace}};x};Database=db');
    expect(odbc.text).toBe('Driver={ODBC Driver 18};Server=sql.example;Uid=app;Database=db');
    expect(odbc.labels).toEqual(['Pwd']);
  });

  it('masks a credential inside a URL value of an entry', () => {
    const masked = maskCredentials('Endpoint=https://u:in-url-Secret@host.example/;Name=x');
    expect(masked.text).toBe('Endpoint=https://u@host.example/;Name=x');
    expect(masked.values).toContain('in-url-Secret');
  });
});
