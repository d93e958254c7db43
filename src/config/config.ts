import { z } from 'zod';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { OidcConfig } from '../auth/oidc.ts';
import type { RateLimits } from '../limits/rate-limiter.ts';
import { allowListErrors } from '../webhooks/allow-list.ts';

/**
 * Every setting comes from an environment variable, validated here once at start-up.
 * Defaults work against the lab that `infra/lab.sh up` builds.
 */
/** "a, b,,c" → ['a', 'b', 'c']. */
const commaList = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === '1' || v === 'true' || v === 'yes');

const EnvSchema = z.object({
  TRUNKLINE_REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  // How long a gateway request waits for Redis before it answers 503 SERVICE_UNAVAILABLE.
  TRUNKLINE_REDIS_COMMAND_TIMEOUT_MS: int(2000, 50, 60_000),
  // Every Redis key and BullMQ queue of one deployment starts with this; tests use a random one.
  TRUNKLINE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and - only (1..40)')
    .default('trunkline'),
  TRUNKLINE_INVENTORY: z.string().min(1).default('/run/trunkline/lab-tl/inventory.json'),
  // Loopback by default: there is no authentication yet, binding elsewhere must be deliberate.
  TRUNKLINE_LISTEN_HOST: z.string().min(1).default('127.0.0.1'),
  TRUNKLINE_LISTEN_PORT: int(4000, 0, 65535),
  TRUNKLINE_SSH_CONNECT_TIMEOUT_MS: int(5000, 100, 120_000),
  // Above the host tools' own bounds (ovs-vsctl --timeout=10): a command Trunkline gave up on must
  // not still change the host after its job ended (seen by the chaos suite at 4 s).
  TRUNKLINE_SSH_COMMAND_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(
      11_000,
      "at least 11000: above ovs-vsctl's own --timeout=10 s, or a command given up on could still change the host after its job ended",
    )
    .max(3_600_000)
    .default(30_000),
  // sshd allows 10 sessions per connection by default, hardened hosts fewer (docs/lab.md).
  TRUNKLINE_SSH_MAX_CHANNELS: int(4, 1, 10),
  TRUNKLINE_SSH_KEEPALIVE_MS: int(15_000, 0, 600_000),
  // Run host commands through `sudo -n` (never prompts; fails fast if sudo is not set up).
  TRUNKLINE_SUDO: bool(true),
  TRUNKLINE_WORKER_CONCURRENCY: int(8, 1, 256),
  // How long a dead worker's job and host locks stay held before another worker takes over.
  TRUNKLINE_JOB_LOCK_MS: int(10_000, 1000, 600_000),
  // How long SIGTERM waits for running host parts (worker) or requests in flight (gateway) before
  // the process exits anyway; below an orchestrator's kill deadline (Kubernetes: 30 s).
  TRUNKLINE_SHUTDOWN_GRACE_MS: int(25_000, 0, 600_000),
  // How often a worker looks for jobs a gateway recorded but never queued (workers/orphan-sweeper.ts).
  TRUNKLINE_ORPHAN_SWEEP_SECONDS: int(30, 1, 3600),
  // The lab has no kernel datapath; production fleets usually want `system`.
  TRUNKLINE_DEFAULT_DATAPATH: z.enum(['netdev', 'system']).default('netdev'),
  // <domain type=...> of VMs Trunkline defines: kvm on real hypervisors, qemu (TCG) in the lab.
  TRUNKLINE_VM_DOMAIN_TYPE: z.enum(['kvm', 'qemu']).default('qemu'),
  // Every host is re-read this often by a BullMQ job scheduler (0 = never).
  TRUNKLINE_REFRESH_INTERVAL_SECONDS: int(30, 0, 86_400),
  // Cached state older than this is reported as stale.
  TRUNKLINE_STATE_FRESHNESS_SECONDS: int(90, 1, 7 * 86_400),
  // How long a query with `refresh: true` waits for fresh state before answering from the cache.
  TRUNKLINE_REFRESH_WAIT_MS: int(15_000, 100, 300_000),
  // Seed the host registry in Redis from TRUNKLINE_INVENTORY at start-up.
  TRUNKLINE_SEED_INVENTORY: bool(true),
  TRUNKLINE_JOB_TTL_SECONDS: int(7 * 24 * 3600, 60, 365 * 24 * 3600),
  // Authentication (docs/security.md): API tokens, their hashes keyed with a server pepper kept
  // outside Redis; `off` (every request an admin) is refused unless the gateway listens on loopback.
  TRUNKLINE_AUTH_MODE: z.enum(['tokens', 'off']).default('tokens'),
  TRUNKLINE_AUTH_PEPPER_FILE: z.string().min(1).optional(),
  TRUNKLINE_AUTH_PEPPER: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  // The audit log (docs/security.md): entries older than this go, and the log never holds much more than this many.
  TRUNKLINE_AUDIT_RETENTION_DAYS: int(90, 1, 3650),
  TRUNKLINE_AUDIT_MAX_ENTRIES: int(1_000_000, 1000, 100_000_000),
  // Native TLS (docs/security.md): both files, or neither (plain HTTP, e.g. behind a TLS-terminating proxy).
  TRUNKLINE_TLS_CERT_FILE: z.string().min(1).optional(),
  TRUNKLINE_TLS_KEY_FILE: z.string().min(1).optional(),
  // An identity provider's JWTs as callers too (docs/security.md): issuer, audience and JWKS URL together.
  TRUNKLINE_OIDC_ISSUER: z.url().optional(),
  TRUNKLINE_OIDC_AUDIENCE: z.string().min(1).optional(),
  TRUNKLINE_OIDC_JWKS_URL: z.url().optional(),
  TRUNKLINE_OIDC_ALGORITHMS: z.string().default('RS256,ES256').transform(commaList),
  TRUNKLINE_OIDC_NAME_CLAIM: z.string().min(1).default('preferred_username'),
  TRUNKLINE_OIDC_ROLE_CLAIM: z.string().min(1).default('trunkline_role'),
  TRUNKLINE_OIDC_HOST_GROUPS_CLAIM: z.string().min(1).default('trunkline_host_groups'),
  // /healthz answers without a token only when this says so (load balancers).
  TRUNKLINE_HEALTHZ_PUBLIC: bool(false),
  // Per-token rate limits (docs/security.md), counted across every gateway in Redis; 0 turns one off.
  TRUNKLINE_RATE_CHANGES_PER_MINUTE: int(120, 0, 1_000_000),
  TRUNKLINE_RATE_READS_PER_MINUTE: int(1200, 0, 1_000_000),
  // Refused credentials per client address a minute, before 429.
  TRUNKLINE_RATE_UNAUTHENTICATED_PER_MINUTE: int(120, 0, 1_000_000),
  // GraphQL abuse limits (graphql-armor; docs/security.md): per operation, checked before it runs.
  TRUNKLINE_GRAPHQL_MAX_DEPTH: int(12, 1, 100),
  TRUNKLINE_GRAPHQL_MAX_ALIASES: int(30, 0, 10_000),
  TRUNKLINE_GRAPHQL_MAX_COST: int(20_000, 1, 10_000_000),
  TRUNKLINE_GRAPHQL_MAX_TOKENS: int(5000, 100, 1_000_000),
  TRUNKLINE_GRAPHQL_MAX_DIRECTIVES: int(20, 0, 1000),
  // How long one GraphQL query or mutation may run (0: unbounded); subscriptions are not bounded.
  TRUNKLINE_GRAPHQL_EXECUTION_TIMEOUT_MS: int(30_000, 0, 3_600_000),
  // GraphQL request bodies larger than this are refused with 413 (the token limit bounds a query's text anyway).
  TRUNKLINE_GRAPHQL_BODY_LIMIT_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  // Schema introspection (and GraphiQL) for development tools; off unless asked for.
  TRUNKLINE_GRAPHQL_INTROSPECTION: bool(false),
  // REST request bodies larger than this are refused with 413 (GraphQL keeps yoga's own limit).
  TRUNKLINE_REST_BODY_LIMIT_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  // Origins whose browser pages may call the API (CORS), comma-separated, e.g. https://noc.example.com; none by default.
  TRUNKLINE_CORS_ORIGINS: z
    .string()
    .default('')
    .transform(commaList)
    .refine((list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)), {
      error: 'each origin is scheme://host[:port], e.g. https://noc.example.com',
    }),
  // How long an Idempotency-Key (REST) / idempotencyKey (GraphQL) and its answer are kept.
  TRUNKLINE_IDEMPOTENCY_TTL_SECONDS: int(24 * 3600, 60, 30 * 24 * 3600),
  // Webhooks (docs/webhooks.md): one POST's limit, how often a delivery is tried, the first retry's delay (doubling after).
  TRUNKLINE_WEBHOOK_TIMEOUT_MS: int(5000, 100, 120_000),
  TRUNKLINE_WEBHOOK_MAX_ATTEMPTS: int(6, 1, 50),
  TRUNKLINE_WEBHOOK_BACKOFF_MS: int(10_000, 10, 3_600_000),
  // Destinations webhooks may reach (SSRF guard): hostnames, IPs, CIDRs. Loopback only by default, for the lab.
  TRUNKLINE_WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default('127.0.0.0/8,::1,localhost')
    .transform(commaList)
    .refine((list) => allowListErrors(list).length === 0, { error: (issue) => allowListErrors(issue.input as string[]).join('; ') }),
  // Deliveries one worker sends at once, and at most this many to one endpoint (a dead one cannot take every slot).
  TRUNKLINE_WEBHOOK_CONCURRENCY: int(16, 1, 512),
  TRUNKLINE_WEBHOOK_ENDPOINT_CONCURRENCY: int(4, 1, 512),
  // How long the dispatcher waits for more events after one came, to send them in fewer batch jobs (0: none).
  TRUNKLINE_WEBHOOK_LINGER_MS: int(20, 0, 1000),
  // How many steps below the worker the webhook process runs (nice): change jobs get the CPU first.
  TRUNKLINE_WEBHOOK_NICE: int(19, 0, 19),
  // Whether each worker starts a webhook process (child), or webhooks run elsewhere (none: run workers/webhook-process.ts).
  TRUNKLINE_WEBHOOK_PROCESS: z.enum(['child', 'none']).default('child'),
  // Deliveries kept per endpoint (the newest), and for how long.
  TRUNKLINE_WEBHOOK_HISTORY: int(1000, 10, 100_000),
  TRUNKLINE_WEBHOOK_HISTORY_TTL_SECONDS: int(7 * 24 * 3600, 60, 365 * 24 * 3600),
  TRUNKLINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Prometheus metrics (docs/metrics.md). The gateway's /metrics needs a token (like every path) unless this says so.
  TRUNKLINE_METRICS_PUBLIC: bool(false),
  // Each worker serves its own /metrics (and its webhook process's) here; loopback by default, port 0 turns it off.
  TRUNKLINE_WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  TRUNKLINE_WORKER_METRICS_PORT: int(9464, 0, 65535),
  // A webhook process run on its own (TRUNKLINE_WEBHOOK_PROCESS=none elsewhere) serves /metrics here (0: off);
  // as a worker's child it reports through the worker's port instead.
  TRUNKLINE_WEBHOOK_METRICS_PORT: int(0, 0, 65535),
});

export type EnvConfig = z.infer<typeof EnvSchema>;

export interface Config {
  redisUrl: string;
  /** Gateways: a Redis command that takes longer fails, and the request is answered 503. */
  redisCommandTimeoutMs: number;
  /** SIGTERM: how long running work may take to finish before the process exits anyway. */
  shutdownGraceMs: number;
  prefix: string;
  inventoryPath: string;
  listen: { host: string; port: number; tls: { certFile: string; keyFile: string } | null };
  auth: AuthConfig;
  audit: { retentionDays: number; maxEntries: number };
  rates: RateLimits;
  graphql: GraphqlLimits;
  ssh: { connectTimeoutMs: number; commandTimeoutMs: number; maxChannels: number; keepaliveMs: number; sudo: boolean };
  worker: { concurrency: number; lockMs: number; orphanSweepSeconds: number };
  defaults: { datapathType: 'netdev' | 'system'; vmDomainType: 'kvm' | 'qemu' };
  jobTtlSeconds: number;
  logLevel: string;
  api: { restBodyLimitBytes: number; idempotencyTtlSeconds: number; corsOrigins: string[] };
  inventory: { refreshIntervalSeconds: number; freshnessSeconds: number; refreshWaitMs: number; seed: boolean };
  webhooks: WebhookConfig;
  metrics: MetricsConfig;
}

/** Where metrics are served (docs/metrics.md); a port of 0 serves none. */
export interface MetricsConfig {
  /** The gateway's /metrics without a token. */
  public: boolean;
  /** The listen address of the worker's (and a standalone webhook process's) metrics listener. */
  host: string;
  workerPort: number;
  /** A webhook process that runs on its own; as a worker's child it answers through the worker's port. */
  webhookPort: number;
}

export interface AuthConfig {
  mode: 'tokens' | 'off';
  /** An identity provider whose JWTs are accepted too; null: API tokens only. */
  oidc: OidcConfig | null;
  /** The pepper itself, or the file it is in (read by src/auth/pepper.ts); one is needed in tokens mode. */
  pepper: string | null;
  pepperFile: string | null;
  healthzPublic: boolean;
}

/** Whether a listen address is this machine's loopback only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** What one GraphQL operation may ask for (graphql-armor's measures), and whether the schema may be introspected. */
export interface GraphqlLimits {
  maxDepth: number;
  maxAliases: number;
  /** graphql-armor's cost: objects 2, scalars 1, each level deeper × 1.5. */
  maxCost: number;
  maxTokens: number;
  maxDirectives: number;
  introspection: boolean;
  bodyLimitBytes: number;
  executionTimeoutMs: number;
}

export interface WebhookConfig {
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  allowedHosts: string[];
  concurrency: number;
  endpointConcurrency: number;
  /** The dispatcher's wait for more events after one came (batching), ms. */
  lingerMs: number;
  nice: number;
  /** child: every worker starts workers/webhook-process.ts; none: it runs on its own, elsewhere. */
  process: 'child' | 'none';
  historyLength: number;
  historyTtlSeconds: number;
}

/**
 * Parses the environment into a Config; a bad value fails start-up naming the variable.
 * @example loadConfig({ TRUNKLINE_LISTEN_PORT: '4100' }).listen.port === 4100
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new TrunklineError(ErrorCode.CONFIG_INVALID, `invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const oidcSet = [e.TRUNKLINE_OIDC_ISSUER, e.TRUNKLINE_OIDC_AUDIENCE, e.TRUNKLINE_OIDC_JWKS_URL].filter(Boolean).length;
  if (oidcSet !== 0 && oidcSet !== 3)
    throw new TrunklineError(
      ErrorCode.CONFIG_INVALID,
      'invalid configuration: TRUNKLINE_OIDC_ISSUER, TRUNKLINE_OIDC_AUDIENCE and TRUNKLINE_OIDC_JWKS_URL go together',
    );
  if (Boolean(e.TRUNKLINE_TLS_CERT_FILE) !== Boolean(e.TRUNKLINE_TLS_KEY_FILE))
    throw new TrunklineError(
      ErrorCode.CONFIG_INVALID,
      'invalid configuration: TRUNKLINE_TLS_CERT_FILE and TRUNKLINE_TLS_KEY_FILE go together (both for TLS, neither for plain HTTP)',
    );
  if (e.TRUNKLINE_AUTH_MODE === 'off' && !isLoopback(e.TRUNKLINE_LISTEN_HOST))
    throw new TrunklineError(
      ErrorCode.CONFIG_INVALID,
      `invalid configuration: TRUNKLINE_AUTH_MODE=off is only allowed when the gateway listens on loopback, not on ${e.TRUNKLINE_LISTEN_HOST}: use API tokens (docs/security.md)`,
    );
  return {
    redisUrl: e.TRUNKLINE_REDIS_URL,
    redisCommandTimeoutMs: e.TRUNKLINE_REDIS_COMMAND_TIMEOUT_MS,
    shutdownGraceMs: e.TRUNKLINE_SHUTDOWN_GRACE_MS,
    prefix: e.TRUNKLINE_PREFIX,
    inventoryPath: e.TRUNKLINE_INVENTORY,
    listen: {
      host: e.TRUNKLINE_LISTEN_HOST,
      port: e.TRUNKLINE_LISTEN_PORT,
      tls:
        e.TRUNKLINE_TLS_CERT_FILE && e.TRUNKLINE_TLS_KEY_FILE
          ? { certFile: e.TRUNKLINE_TLS_CERT_FILE, keyFile: e.TRUNKLINE_TLS_KEY_FILE }
          : null,
    },
    auth: {
      mode: e.TRUNKLINE_AUTH_MODE,
      oidc:
        e.TRUNKLINE_OIDC_ISSUER && e.TRUNKLINE_OIDC_AUDIENCE && e.TRUNKLINE_OIDC_JWKS_URL
          ? {
              issuer: e.TRUNKLINE_OIDC_ISSUER,
              audience: e.TRUNKLINE_OIDC_AUDIENCE,
              jwksUrl: e.TRUNKLINE_OIDC_JWKS_URL,
              algorithms: e.TRUNKLINE_OIDC_ALGORITHMS,
              nameClaim: e.TRUNKLINE_OIDC_NAME_CLAIM,
              roleClaim: e.TRUNKLINE_OIDC_ROLE_CLAIM,
              hostGroupsClaim: e.TRUNKLINE_OIDC_HOST_GROUPS_CLAIM,
            }
          : null,
      pepper: e.TRUNKLINE_AUTH_PEPPER ?? null,
      pepperFile: e.TRUNKLINE_AUTH_PEPPER_FILE ?? null,
      healthzPublic: e.TRUNKLINE_HEALTHZ_PUBLIC,
    },
    audit: { retentionDays: e.TRUNKLINE_AUDIT_RETENTION_DAYS, maxEntries: e.TRUNKLINE_AUDIT_MAX_ENTRIES },
    rates: {
      changesPerMinute: e.TRUNKLINE_RATE_CHANGES_PER_MINUTE,
      readsPerMinute: e.TRUNKLINE_RATE_READS_PER_MINUTE,
      unauthenticatedPerMinute: e.TRUNKLINE_RATE_UNAUTHENTICATED_PER_MINUTE,
    },
    graphql: {
      maxDepth: e.TRUNKLINE_GRAPHQL_MAX_DEPTH,
      maxAliases: e.TRUNKLINE_GRAPHQL_MAX_ALIASES,
      maxCost: e.TRUNKLINE_GRAPHQL_MAX_COST,
      maxTokens: e.TRUNKLINE_GRAPHQL_MAX_TOKENS,
      maxDirectives: e.TRUNKLINE_GRAPHQL_MAX_DIRECTIVES,
      introspection: e.TRUNKLINE_GRAPHQL_INTROSPECTION,
      bodyLimitBytes: e.TRUNKLINE_GRAPHQL_BODY_LIMIT_BYTES,
      executionTimeoutMs: e.TRUNKLINE_GRAPHQL_EXECUTION_TIMEOUT_MS,
    },
    ssh: {
      connectTimeoutMs: e.TRUNKLINE_SSH_CONNECT_TIMEOUT_MS,
      commandTimeoutMs: e.TRUNKLINE_SSH_COMMAND_TIMEOUT_MS,
      maxChannels: e.TRUNKLINE_SSH_MAX_CHANNELS,
      keepaliveMs: e.TRUNKLINE_SSH_KEEPALIVE_MS,
      sudo: e.TRUNKLINE_SUDO,
    },
    worker: {
      concurrency: e.TRUNKLINE_WORKER_CONCURRENCY,
      lockMs: e.TRUNKLINE_JOB_LOCK_MS,
      orphanSweepSeconds: e.TRUNKLINE_ORPHAN_SWEEP_SECONDS,
    },
    defaults: { datapathType: e.TRUNKLINE_DEFAULT_DATAPATH, vmDomainType: e.TRUNKLINE_VM_DOMAIN_TYPE },
    jobTtlSeconds: e.TRUNKLINE_JOB_TTL_SECONDS,
    logLevel: e.TRUNKLINE_LOG_LEVEL,
    api: {
      restBodyLimitBytes: e.TRUNKLINE_REST_BODY_LIMIT_BYTES,
      idempotencyTtlSeconds: e.TRUNKLINE_IDEMPOTENCY_TTL_SECONDS,
      corsOrigins: e.TRUNKLINE_CORS_ORIGINS,
    },
    inventory: {
      refreshIntervalSeconds: e.TRUNKLINE_REFRESH_INTERVAL_SECONDS,
      freshnessSeconds: e.TRUNKLINE_STATE_FRESHNESS_SECONDS,
      refreshWaitMs: e.TRUNKLINE_REFRESH_WAIT_MS,
      seed: e.TRUNKLINE_SEED_INVENTORY,
    },
    webhooks: {
      timeoutMs: e.TRUNKLINE_WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.TRUNKLINE_WEBHOOK_MAX_ATTEMPTS,
      backoffMs: e.TRUNKLINE_WEBHOOK_BACKOFF_MS,
      allowedHosts: e.TRUNKLINE_WEBHOOK_ALLOWED_HOSTS,
      concurrency: e.TRUNKLINE_WEBHOOK_CONCURRENCY,
      endpointConcurrency: e.TRUNKLINE_WEBHOOK_ENDPOINT_CONCURRENCY,
      lingerMs: e.TRUNKLINE_WEBHOOK_LINGER_MS,
      nice: e.TRUNKLINE_WEBHOOK_NICE,
      process: e.TRUNKLINE_WEBHOOK_PROCESS,
      historyLength: e.TRUNKLINE_WEBHOOK_HISTORY,
      historyTtlSeconds: e.TRUNKLINE_WEBHOOK_HISTORY_TTL_SECONDS,
    },
    metrics: {
      public: e.TRUNKLINE_METRICS_PUBLIC,
      host: e.TRUNKLINE_WORKER_METRICS_HOST,
      workerPort: e.TRUNKLINE_WORKER_METRICS_PORT,
      webhookPort: e.TRUNKLINE_WEBHOOK_METRICS_PORT,
    },
  };
}
