import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs (pino). Private keys never reach a log: the redact list covers the
 * places they could appear if someone logged a host or connection object by mistake.
 */
export function createLogger(name: string, level: string = process.env.TRUNKLINE_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['privateKey', '*.privateKey', '*.*.privateKey', 'passphrase', '*.passphrase'], censor: '[redacted]' },
  });
}
export type { Logger };
