import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { type TokenInput, tokenIssuer } from '../../test/support/tokens.ts';

/**
 * The configuration of a gateway a benchmark builds in its own process (the services of
 * gateway/main.ts, createGateway()): a private key prefix on `redisUrl`, API tokens on with a
 * pepper of its own, the rate limits counted but out of reach (a benchmark sends thousands of
 * requests a minute from one token), quiet logs. `issuer` makes tokens that gateway accepts.
 */
export function benchGatewayConfig(redisUrl: string): {
  config: Config;
  prefix: string;
  issuer: (redis: Redis) => (input: TokenInput) => Promise<string>;
} {
  const prefix = `tl-bench-${randomBytes(4).toString('hex')}`;
  const pepper = randomBytes(32).toString('hex');
  const config = loadConfig({
    ...process.env,
    TRUNKLINE_REDIS_URL: redisUrl,
    TRUNKLINE_PREFIX: prefix,
    TRUNKLINE_LOG_LEVEL: 'silent',
    TRUNKLINE_AUTH_MODE: 'tokens',
    TRUNKLINE_AUTH_PEPPER: pepper,
    TRUNKLINE_RATE_READS_PER_MINUTE: '1000000',
    TRUNKLINE_RATE_CHANGES_PER_MINUTE: '1000000',
  });
  return { config, prefix, issuer: (redis) => tokenIssuer(redis, prefix, pepper) };
}
