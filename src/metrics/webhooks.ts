import { Registry } from 'prom-client';
import { defineWebhookMetrics } from './definitions.ts';

/**
 * The webhook process's registry and metrics (workers/webhook-process.ts: the dispatcher and the
 * delivery worker record into them). As a worker's child it answers its worker's scrapes over IPC
 * (child-process.ts); run on its own, it serves them on TRUNKLINE_WEBHOOK_METRICS_PORT.
 */
export const webhookRegistry = new Registry();
export const webhookMetrics = defineWebhookMetrics(webhookRegistry);
