import { openRealDeps, realServicesEnv } from './real-deps.ts';
import type { AppDeps } from '../app/deps.ts';

/** Real-service deps (PostgreSQL, Redis, RGW with Object Lock) for the retention tests. */
export async function openRetentionDeps(): Promise<{ deps: AppDeps; cleanup(): Promise<void> }> {
  return openRealDeps(realServicesEnv());
}
