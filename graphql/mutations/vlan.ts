import { requestChange, requestVerify } from '../../src/requests/change-request.ts';
import { builder } from '../builder.ts';
import { changePayloadType } from './change-payload.ts';

/** Fleet VLAN mutations: one request, one job whose steps run per host in parallel (src/requests/change-request.ts). */

const EnsureVlanPayload = changePayloadType('EnsureVlanPayload');
builder.mutationField('ensureVlan', (t) =>
  t.field({
    type: EnsureVlanPayload,
    description:
      "Makes a VLAN usable on hypervisors, in one job (hosts in parallel, each host's steps in order): the bridge exists, the uplink trunks the tag (added, other VLANs kept), the libvirt network exists with portgroup vlan-<tag>, and trunk portgroups (vlan-all style) include it. Bridge, uplink and network default to each host's registry defaults. Idempotent; repairs drift.",
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
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => requestChange(ctx, 'ensureVlan', input, ctx),
  }),
);

const RemoveVlanPayload = changePayloadType('RemoveVlanPayload');
builder.mutationField('removeVlan', (t) =>
  t.field({
    type: RemoveVlanPayload,
    description:
      'Takes a VLAN off hypervisors: its portgroup, the tag in trunk portgroups and in the uplink trunks. Refused while VM NICs are on it (they are listed) unless force; never leaves a trunk empty (that would carry every VLAN).',
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
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => requestChange(ctx, 'removeVlan', input, ctx),
  }),
);

const VerifyVlanPayload = changePayloadType('VerifyVlanPayload');
builder.mutationField('verifyVlan', (t) =>
  t.field({
    type: VerifyVlanPayload,
    description:
      "Proves a VLAN works: on each hypervisor a temporary probe (a network namespace on an access port of the VLAN, address in 198.19.0.0/16) pings the others across hosts, and probes on each isolationFrom VLAN, in the same subnet, must reach none of them. Probes are always removed, also on failure or cancel. The job's `verification` holds the connectivity matrix.",
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
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => requestVerify(ctx, input, ctx),
  }),
);
