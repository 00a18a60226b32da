/** Process-wide options: logging and where the config file is. */
import { defineOptions, oneOf, str } from './option.js';

export const generalOptions = defineOptions({
  configFile: {
    flag: 'config.file',
    env: ['LARDER_CONFIG'],
    default: '',
    help: 'YAML or JSON config file; flags and environment variables override it',
    parse: str(),
  },
  logLevel: {
    flag: 'log.level',
    env: ['LARDER_LOG_LEVEL'],
    default: 'info' as 'debug' | 'info' | 'warn' | 'error',
    help: 'log level: debug, info, warn or error',
    parse: oneOf(['debug', 'info', 'warn', 'error'] as const),
  },
});
