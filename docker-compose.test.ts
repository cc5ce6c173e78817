import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_DOC } from './config/index.ts';

// `docker compose config` needs an engine, which this machine lacks: check the file's shape instead.
describe('docker-compose.yml', () => {
  const doc = parse(fs.readFileSync(new URL('./docker-compose.yml', import.meta.url), 'utf8')) as {
    services: Record<string, {
      image?: string; build?: string; command?: unknown; environment?: Record<string, string>; depends_on?: Record<string, unknown>;
      healthcheck?: { test?: unknown };
    }>;
    volumes?: Record<string, unknown>;
  };

  it('runs postgres, redis, minio with a locked bucket, the api and workers', () => {
    expect(Object.keys(doc.services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'minio', 'minio-init', 'api', 'worker']));
    expect(JSON.stringify(doc.services['minio-init']!.command)).toContain('--with-lock');
    expect(JSON.stringify(doc.services.redis!.command)).toContain('noeviction');
  });

  it('gives api and worker the same, documented configuration', () => {
    const api = doc.services.api!.environment!;
    expect(doc.services.worker!.environment).toEqual(api);
    for (const name of Object.keys(api)) expect(ENV_DOC, name).toHaveProperty(name);
    for (const need of ['DATABASE_URL', 'REDIS_URL', 'S3_ENDPOINT', 'S3_BUCKET']) expect(api).toHaveProperty(need);
  });

  it('pins every image to a release, never :latest or a bare major version', () => {
    for (const [name, s] of Object.entries(doc.services)) {
      if (!s.image) continue;
      const tag = s.image.split(':')[1] ?? '';
      expect(tag, `${name} image ${s.image}`).not.toBe('');
      expect(tag, `${name} image ${s.image}`).not.toBe('latest');
      expect(tag, `${name} image ${s.image}`).toMatch(/[.-]/);
    }
  });

  it('checks the health of the api by /ready and of the workers by `arkiva check`', () => {
    expect(JSON.stringify(doc.services.api!.healthcheck?.test)).toContain('/ready');
    expect(JSON.stringify(doc.services.worker!.healthcheck?.test)).toContain('check');
  });

  it('makes the first admin before anyone needs the API, from a password the operator gives', () => {
    const init = doc.services['admin-init']!;
    expect(JSON.stringify(init.command)).toContain('user add');
    expect(JSON.stringify(init.command)).toContain('--role admin');
    expect(init.environment?.ARKIVA_PASSWORD).toMatch(/ARKIVA_ADMIN_PASSWORD:\?/);
  });

  it('declares every volume it mounts and every service it depends on', () => {
    for (const [name, s] of Object.entries(doc.services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(doc.services, `${name} depends on ${dep}`).toHaveProperty(dep);
      for (const v of ((s as { volumes?: string[] }).volumes ?? [])) {
        const vol = v.split(':')[0]!;
        if (!vol.startsWith('.') && !vol.startsWith('/')) expect(doc.volumes, `${name} mounts ${vol}`).toHaveProperty(vol);
      }
    }
  });
});
