import { createServer } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { METRICS_HEADERS, METRICS_PATH } from './registry.ts';

export interface MetricsListener {
  /** Where it serves (http://host:port/metrics), or null when it does not (port 0, or it could not listen). */
  url: string | null;
  close(): Promise<void>;
}

/**
 * A small HTTP listener for a process that has no HTTP server of its own (a worker, a webhook
 * process run on its own): GET /metrics, nothing else. No authentication: it listens on loopback
 * unless configured otherwise (docs/metrics.md). Port 0 turns it off. A port already taken (a
 * second worker on the same machine with the same settings) is logged and the process goes on
 * without one: metrics never stop a worker from running jobs.
 */
export async function listenForScrapes(opts: {
  host: string;
  port: number;
  logger: Logger;
  /** The exposition, made anew for each scrape. */
  render(): Promise<string>;
}): Promise<MetricsListener> {
  const off: MetricsListener = { url: null, close: async () => {} };
  if (opts.port === 0) return off;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`only GET ${METRICS_PATH} here\n`);
      return;
    }
    opts.render().then(
      (text) => {
        res.writeHead(200, METRICS_HEADERS);
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: Error) => {
        opts.logger.warn({ err: err.message }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  // Scrapes are short; an idle connection of a scraper that went away must not hold the process open at exit.
  server.keepAliveTimeout = 5000;
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      opts.logger.warn(
        { err: err.message, code: err.code, host: opts.host, port: opts.port },
        'metrics listener could not listen: this process serves no metrics',
      );
      resolve(false);
    });
    server.listen(opts.port, opts.host, () => resolve(true));
  });
  if (!listening) return off;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${opts.port}${METRICS_PATH}`;
  opts.logger.info({ url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
