import { type Command, Option } from 'commander';
import type { CreatedWebhookEndpoint, WebhookDelivery, WebhookEndpoint } from '../api.ts';
import { parseIntIn, parseList } from '../args.ts';
import { path } from '../client.ts';
import { ATTEMPT_COLUMNS, DELIVERY_COLUMNS, DELIVERY_FIELDS, WEBHOOK_COLUMNS, WEBHOOK_FIELDS } from '../output/columns.ts';
import { renderFields, renderTable } from '../output/table.ts';
import { type Cli, group, printList, withFlags } from './shared.ts';

/** `trunkline webhook`: endpoints that get job events, their deliveries (REST /webhooks; docs/webhooks.md). */

const FILTER_FLAGS = {
  url: '<url>/--url',
  description: '--description',
  enabled: '--enable/--disable',
  filter: '--events/--hosts/--kinds/--ticket-prefix',
};

function filterOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--events <types>', 'only these job event types (e.g. SUCCEEDED,FAILED; default: all)').argParser(parseList))
    .addOption(new Option('--hosts <names>', 'only events about these hypervisors (default: all)').argParser(parseList))
    .addOption(new Option('--kinds <kinds>', 'only jobs of these kinds (e.g. ensureVlan; default: all)').argParser(parseList))
    .option('--ticket-prefix <prefix>', 'only jobs whose ticketRef starts with this');
}

type Opts = Record<string, unknown>;
const hasFilter = (o: Opts) => [o.events, o.hosts, o.kinds, o.ticketPrefix].some((v) => v !== undefined);
const filterOf = (o: Opts) => ({
  eventTypes: o.events ?? [],
  hypervisors: o.hosts ?? [],
  kinds: o.kinds ?? [],
  ticketRefPrefix: o.ticketPrefix ?? null,
});

export function webhookCommands(program: Command, cli: Cli): void {
  const webhook = group(
    program,
    'webhook',
    'list, create, update and delete webhook endpoints; their deliveries',
    'Webhook endpoints get the job events that match their filter, signed as Standard Webhooks (admins).',
  );

  webhook
    .command('ls')
    .alias('list')
    .description('every endpoint, oldest first (never with its secret)')
    .action(cli.action(async (ctx) => printList(ctx, '/webhooks', WEBHOOK_COLUMNS)));

  webhook
    .command('show')
    .description('one endpoint')
    .argument('<id>', 'the endpoint id (ep_…)')
    .action(
      cli.action(async (ctx, [id]) => {
        const row = await ctx.client.get<WebhookEndpoint>(path`/webhooks/${id!}`);
        ctx.print({ data: row, row, columns: WEBHOOK_FIELDS });
      }),
    );

  filterOptions(
    webhook
      .command('create')
      .description('register an endpoint; prints its signing secret once')
      .argument('<url>', 'where deliveries are POSTed (http(s), on TRUNKLINE_WEBHOOK_ALLOWED_HOSTS)')
      .option('--description <text>', 'what it is for')
      .option('--disabled', 'register it disabled'),
  ).action(
    cli.action(async (ctx, [url], opts) => {
      const { body } = await withFlags(FILTER_FLAGS, () =>
        ctx.client.request<CreatedWebhookEndpoint>('POST', '/webhooks', {
          body: {
            url,
            ...(opts.description !== undefined ? { description: opts.description } : {}),
            ...(opts.disabled ? { enabled: false } : {}),
            ...(hasFilter(opts) ? { filter: filterOf(opts) } : {}),
          },
        }),
      );
      const text = (paint: Parameters<typeof renderFields>[2]) =>
        `${renderFields(WEBHOOK_FIELDS, body.endpoint, paint)}\n${paint('bold', 'secret')}  ${body.secret}\n(shown this once: verify deliveries with it)\n`;
      ctx.print({
        data: body,
        row: { ...body.endpoint, secret: body.secret },
        columns: [...WEBHOOK_FIELDS, { key: 'secret', header: 'SECRET' }],
        text,
      });
    }),
  );

  filterOptions(
    webhook
      .command('update')
      .description('change an endpoint; a filter flag replaces the whole filter (the flags not given are emptied)')
      .argument('<id>', 'the endpoint id')
      .option('--url <url>', 'a new URL')
      .option('--description <text>', 'a new description')
      .option('--enable', 'enable it')
      .option('--disable', 'disable it (deliveries queued for it are dropped)'),
  ).action(
    cli.action(async (ctx, [id], opts) => {
      const { body } = await withFlags({ ...FILTER_FLAGS, url: '--url' }, () =>
        ctx.client.request<WebhookEndpoint>('PATCH', path`/webhooks/${id!}`, {
          body: {
            ...(opts.url !== undefined ? { url: opts.url } : {}),
            ...(opts.description !== undefined ? { description: opts.description } : {}),
            ...(opts.enable ? { enabled: true } : opts.disable ? { enabled: false } : {}),
            ...(hasFilter(opts) ? { filter: filterOf(opts) } : {}),
          },
        }),
      );
      ctx.print({ data: body, row: body, columns: WEBHOOK_FIELDS });
    }),
  );

  webhook
    .command('rm')
    .alias('delete')
    .description('delete an endpoint and its delivery history')
    .argument('<id>', 'the endpoint id')
    .action(
      cli.action(async (ctx, [id]) => {
        await ctx.client.request('DELETE', path`/webhooks/${id!}`);
        ctx.note(`deleted webhook endpoint ${id}`);
      }),
    );

  webhook
    .command('deliveries')
    .description("an endpoint's deliveries, newest first")
    .argument('<id>', 'the endpoint id')
    .addOption(new Option('--status <status>', 'only deliveries in this status').choices(['PENDING', 'SUCCEEDED', 'FAILED']))
    .addOption(new Option('--limit <n>', 'at most this many').argParser(parseIntIn(1, 100_000)).default(50))
    .action(
      cli.action(async (ctx, [id], opts) =>
        printList(ctx, path`/webhooks/${id!}/deliveries`, DELIVERY_COLUMNS, { status: opts.status }, opts.limit),
      ),
    );

  webhook
    .command('delivery')
    .description('one delivery with every attempt: status, response codes, errors, latencies')
    .argument('<id>', 'the endpoint id')
    .argument('<delivery>', 'the delivery id (msg_…: its webhook-id header)')
    .action(
      cli.action(async (ctx, [id, delivery]) => {
        const row = await ctx.client.get<WebhookDelivery>(path`/webhooks/${id!}/deliveries/${delivery!}`);
        const text = (paint: Parameters<typeof renderTable>[2]) =>
          `${renderFields(DELIVERY_FIELDS, row, paint)}\n${renderTable(ATTEMPT_COLUMNS, row.attempts, paint)}`;
        ctx.print({ data: row, row, columns: DELIVERY_FIELDS, text });
      }),
    );

  webhook
    .command('redeliver')
    .description('send a delivery again, now, once: the same webhook-id and body, a new timestamp and signature')
    .argument('<id>', 'the endpoint id')
    .argument('<delivery>', 'the delivery id')
    .action(
      cli.action(async (ctx, [id, delivery]) => {
        const { body } = await withFlags({ endpointId: '<id>', deliveryId: '<delivery>' }, () =>
          ctx.client.request<WebhookDelivery>('POST', path`/webhooks/${id!}/deliveries/${delivery!}/redeliver`),
        );
        ctx.print({ data: body, row: body, columns: DELIVERY_FIELDS });
      }),
    );
}
