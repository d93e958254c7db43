import { JOB_KIND_DESCRIPTIONS } from '../../src/changes/descriptions.ts';
import { requestChange, requestVerify } from '../../src/requests/change-request.ts';
import { builder } from '../builder.ts';
import { changePayloadType } from './change-payload.ts';
import { idempotencyKeyField } from './host-change.ts';
import { idempotentChange } from './idempotency.ts';

/** Fleet VLAN mutations: one request, one job whose steps run per host in parallel (src/requests/change-request.ts). */

const EnsureVlanPayload = changePayloadType('EnsureVlanPayload');
builder.mutationField('ensureVlan', (t) =>
  t.field({
    type: EnsureVlanPayload,
    description: JOB_KIND_DESCRIPTIONS.ensureVlan,
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('EnsureVlanInput', {
          fields: (f) => ({
            tag: f.int({ required: true, description: '1..4094' }),
            name: f.string({ description: 'A human name, e.g. DMZ.' }),
            hypervisors: f.stringList({ required: true }),
            bridge: f.string(),
            uplink: f.string(),
            network: f.string(),
            portgroup: f.string({ description: 'Default vlan-<tag> (4 digits: vlan-1001).' }),
            dryRun: f.boolean(),
            ticketRef: f.string(),
            idempotencyKey: idempotencyKeyField(f),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => idempotentChange(ctx, 'ensureVlan', input, (rest) => requestChange(ctx, 'ensureVlan', rest, ctx)),
  }),
);

const RemoveVlanPayload = changePayloadType('RemoveVlanPayload');
builder.mutationField('removeVlan', (t) =>
  t.field({
    type: RemoveVlanPayload,
    description: JOB_KIND_DESCRIPTIONS.removeVlan,
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RemoveVlanInput', {
          fields: (f) => ({
            tag: f.int({ required: true }),
            hypervisors: f.stringList({ required: true }),
            force: f.boolean(),
            uplink: f.string({ description: "Default: each host's default uplink." }),
            network: f.string(),
            portgroup: f.string(),
            dryRun: f.boolean(),
            ticketRef: f.string(),
            idempotencyKey: idempotencyKeyField(f),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => idempotentChange(ctx, 'removeVlan', input, (rest) => requestChange(ctx, 'removeVlan', rest, ctx)),
  }),
);

const VerifyVlanPayload = changePayloadType('VerifyVlanPayload');
builder.mutationField('verifyVlan', (t) =>
  t.field({
    type: VerifyVlanPayload,
    description: JOB_KIND_DESCRIPTIONS.verifyVlan,
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('VerifyVlanInput', {
          fields: (f) => ({
            tag: f.int({ required: true }),
            hypervisors: f.stringList({ required: true }),
            isolationFrom: f.intList({ description: 'VLANs that must NOT reach this one (e.g. [1002] for 1001).' }),
            bridge: f.string({ description: "Default: each host's default bridge." }),
            ticketRef: f.string(),
            idempotencyKey: idempotencyKeyField(f),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => idempotentChange(ctx, 'verifyVlan', input, (rest) => requestVerify(ctx, rest, ctx)),
  }),
);
