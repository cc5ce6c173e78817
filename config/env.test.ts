import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError, ENV_DOC } from './env.ts';

describe('loadConfig', () => {
  it('is fully embedded when no service variable is set', () => {
    const c = loadConfig({ ARKIVA_DATA_DIR: '/tmp/ark' });
    expect(c.database).toEqual({ kind: 'pglite', dir: '/tmp/ark/db' });
    expect(c.queue).toEqual({ kind: 'memory' });
    expect(c.store).toEqual({ kind: 'fs', dir: '/tmp/ark/objects' });
    expect(Object.isFrozen(c) && Object.isFrozen(c.store)).toBe(true);
  });

  it('switches each part to its real service independently', () => {
    const onlyDb = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/d' });
    expect(onlyDb.database.kind).toBe('pg');
    expect(onlyDb.queue.kind).toBe('memory');
    expect(onlyDb.store.kind).toBe('fs');
    const onlyS3 = loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:7480', S3_BUCKET: 'arkiva', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' });
    expect(onlyS3.store).toMatchObject({ kind: 's3', bucket: 'arkiva', forcePathStyle: true, objectLock: true, partSizeBytes: 16 * 1024 * 1024 });
    expect(onlyS3.database.kind).toBe('pglite');
    const onlyRedis = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(onlyRedis.queue).toEqual({ kind: 'bullmq', url: 'redis://127.0.0.1:6379', prefix: 'arkiva' });
  });

  it('names every invalid variable', () => {
    expect(() => loadConfig({ OCR_POOL_SIZE: 'zero', DATABASE_URL: 'not a url' })).toThrowError(ConfigError);
    try {
      loadConfig({ OCR_POOL_SIZE: 'zero', DATABASE_URL: 'not a url' });
    } catch (e) {
      expect((e as Error).message).toMatch(/OCR_POOL_SIZE/);
      expect((e as Error).message).toMatch(/DATABASE_URL/);
    }
  });

  it('refuses half an S3 configuration', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:7480' })).toThrow(/S3_BUCKET/);
    expect(() => loadConfig({ S3_BUCKET: 'arkiva', S3_ACCESS_KEY_ID: 'k' })).toThrow(/S3_SECRET_ACCESS_KEY/);
  });

  it('reads how workers hold their jobs: claim 30 s, stalled check 15 s, a job survives 5 losses of its worker', () => {
    expect(loadConfig({}).jobClaims).toEqual({ lockMs: 30_000, stalledCheckMs: 15_000, maxStalls: 5 });
    expect(loadConfig({ QUEUE_LOCK_SECONDS: '10', QUEUE_STALLED_CHECK_SECONDS: '5', QUEUE_MAX_STALLS: '0' }).jobClaims).toEqual({ lockMs: 10_000, stalledCheckMs: 5000, maxStalls: 0 });
    expect(() => loadConfig({ QUEUE_LOCK_SECONDS: '1' })).toThrow(/QUEUE_LOCK_SECONDS/);
  });

  it('reads the events sweep interval in seconds: 10 by default, 1 to 3600', () => {
    expect(loadConfig({}).schedules.eventsDeliverMs).toBe(10_000);
    expect(loadConfig({ SCHEDULE_EVENTS_DELIVER_SECONDS: '2' }).schedules.eventsDeliverMs).toBe(2000);
    for (const bad of ['0', '3601', '1.5', 'often']) expect(() => loadConfig({ SCHEDULE_EVENTS_DELIVER_SECONDS: bad }), bad).toThrow(/SCHEDULE_EVENTS_DELIVER_SECONDS/);
  });

  it('reads the OCR engine: auto unless native or wasm is asked for, nothing else', () => {
    expect(loadConfig({}).ocr.engine).toBe('auto');
    expect(loadConfig({ OCR_ENGINE: '' }).ocr.engine).toBe('auto');
    expect(loadConfig({ OCR_ENGINE: 'wasm' }).ocr.engine).toBe('wasm');
    expect(loadConfig({ OCR_ENGINE: 'auto' }).ocr.engine).toBe('auto');
    expect(loadConfig({ OCR_ENGINE: 'native' }).ocr.engine).toBe('native');
    expect(() => loadConfig({ OCR_ENGINE: 'gpu' })).toThrow(/OCR_ENGINE/);
  });

  it('documents every variable it reads', () => {
    for (const [name, doc] of Object.entries(ENV_DOC)) expect(doc.length, name).toBeGreaterThan(10);
  });

  it("names every variable in the README's configuration table", () => {
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    expect(Object.keys(ENV_DOC).filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
  });
});
