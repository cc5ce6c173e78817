export { loadConfig, ConfigError, ENV_DOC, type Config, type ServiceConfig, type EnvName } from './env.ts';
