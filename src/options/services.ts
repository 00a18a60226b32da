/** Where the optional cache the service uses lives (the seed's REDIS_* variables). */
import { defineOptions, int, str } from './option.js';

export const serviceOptions = defineOptions({
  redisHost: { flag: 'redis.host', env: ['REDIS_HOST'], default: '127.0.0.1', help: 'Redis host', parse: str() },
  redisPort: { flag: 'redis.port', env: ['REDIS_PORT'], default: 6379, help: 'Redis port', parse: int({ min: 1, max: 65535 }) },
});
