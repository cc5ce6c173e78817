import { buildApp } from '../index.ts';
import { ROLES } from '../../auth/index.ts';
import { requireService } from '../../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../../test-support/real-deps.ts';
import { asUser, userHeaders, type TestApp } from '../test-kit.ts';
import { iiifPresentationSuite } from './iiif-presentation.suite.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

iiifPresentationSuite('PostgreSQL, RGW, Redis', async (): Promise<TestApp> => {
  const o = await openRealDeps(realServicesEnv());
  const app = await buildApp(o.deps, { logRequests: false });
  const auth = await userHeaders(o.deps.db, ROLES, 'tester');
  return {
    app, api: asUser(app, auth), auth, deps: o.deps as TestApp['deps'], dir: '',
    async close() {
      await app.close();
      await o.cleanup();
    },
  };
}, enabled);
