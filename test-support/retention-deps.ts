import { openRealDeps, realServicesEnv } from './real-deps.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Config } from '../config/index.ts';

/** Real-service deps (PostgreSQL, Redis, RGW with Object Lock) for the retention tests, with their configuration (for CLI commands). */
export async function openRetentionDeps(): Promise<{ deps: AppDeps; config: Readonly<Config>; cleanup(): Promise<void> }> {
  return openRealDeps(realServicesEnv());
}
