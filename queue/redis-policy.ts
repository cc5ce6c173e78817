import type { Logger } from '../common/logger.ts';

/** The one command this check needs, so tests can pass a stand-in. */
export interface ConfigReader {
  config(subcommand: 'GET', parameter: string): Promise<unknown>;
}

/**
 * Warns when Redis may evict keys: BullMQ needs `maxmemory-policy noeviction`, otherwise Redis
 * silently drops jobs under memory pressure. Managed Redis often disallows CONFIG: then it only
 * says it could not check, and never stops the start.
 */
export async function warnUnlessNoEviction(client: ConfigReader, log: Logger): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    const reply = await client.config('GET', 'maxmemory-policy');
    // CONFIG GET answers [name, value, ...]
    if (Array.isArray(reply) && typeof reply[1] === 'string') policy = reply[1];
  } catch (e) {
    log.warn({ err: e }, 'could not read Redis maxmemory-policy (CONFIG not allowed?); it must be noeviction or jobs may be lost');
    return undefined;
  }
  if (policy === undefined) log.warn('Redis did not report its maxmemory-policy; it must be noeviction or jobs may be lost');
  else if (policy !== 'noeviction') log.warn({ policy }, 'Redis maxmemory-policy is not noeviction: Redis may evict queue keys and lose jobs');
  return policy;
}
