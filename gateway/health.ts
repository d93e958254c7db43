import type { GatewayServices } from '../src/requests/request-context.ts';

/*
 * Health checks for load balancers and orchestrators:
 *   /healthz, /healthz/live  liveness: the process answers (restart it when it does not);
 *   /healthz/ready           readiness: Redis answers and at least one worker consumes the change
 *                            queue (send it traffic only then); 503 naming what is missing.
 */

export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/healthz/live', '/healthz/ready']);

export interface Readiness {
  status: 'ready' | 'not ready';
  redis: 'ok' | 'unavailable';
  /** Workers listening on the change queue (BullMQ's count of its consumers' connections). */
  workers: number | null;
  /** What is missing, for a human. */
  reasons: string[];
}

/** One PING and one count of the queue's consumers, each bounded by the gateway's Redis command timeout. */
export async function readiness(services: Pick<GatewayServices, 'redis' | 'queue'>): Promise<Readiness> {
  const reasons: string[] = [];
  let redis: Readiness['redis'] = 'ok';
  let workers: number | null = null;
  try {
    await services.redis.ping();
    workers = await services.queue.queue.getWorkersCount();
    if (workers === 0) reasons.push('no worker consumes the change queue: changes would be accepted but not run');
  } catch (err) {
    redis = 'unavailable';
    reasons.push(`Redis does not answer: ${(err as Error).message}`);
  }
  return { status: reasons.length ? 'not ready' : 'ready', redis, workers, reasons };
}

export async function healthResponse(services: Pick<GatewayServices, 'redis' | 'queue'>, path: string): Promise<Response> {
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
  if (path !== '/healthz/ready') return json(200, { status: 'ok' });
  const ready = await readiness(services);
  return json(ready.status === 'ready' ? 200 : 503, ready);
}
