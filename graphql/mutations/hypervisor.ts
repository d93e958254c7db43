import { JOB_KIND_DESCRIPTIONS } from '../../src/changes/descriptions.ts';
import type { UserError } from '../../src/changes/user-errors.ts';
import type { JobRecord } from '../../src/jobs/job-types.ts';
import { refreshHypervisors, registerHypervisor, removeHypervisor, rotateHostKey } from '../../src/requests/hypervisor-requests.ts';
import { builder } from '../builder.ts';
import type { HostView } from '../context.ts';
import { DatapathTypeEnum } from '../types/enums.ts';
import { HypervisorRef } from '../types/hypervisor.ts';
import { JobRef } from '../types/job.ts';
import { UserErrorRef } from '../types/user-error.ts';
import { changePayloadType } from './change-payload.ts';
import { idempotencyKeyField } from './host-change.ts';
import { idempotentChange, splitKey } from './idempotency.ts';
import { withIdempotencyKey } from '../../src/requests/idempotent-request.ts';

const HypervisorDefaultsInput = builder.inputType('HypervisorDefaultsInput', {
  fields: (t) => ({
    bridge: t.string({ description: 'Default OVS bridge (default ovsbr0).' }),
    uplink: t.string({ description: 'The trunk port to the switch, e.g. enp5s0f0.' }),
    network: t.string({ description: 'Default libvirt network, e.g. ovs-network.' }),
    datapathType: t.field({ type: DatapathTypeEnum }),
  }),
});

const RegisterHypervisorInputRef = builder.inputType('RegisterHypervisorInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    address: t.string({ required: true }),
    port: t.int({ description: 'SSH port (default 22).' }),
    user: t.string({
      required: true,
      description: 'SSH login; needs NOPASSWD sudo for ovs-vsctl, virsh and the ip forms of verifyVlan (docs/security.md).',
    }),
    privateKeyPath: t.string({
      required: true,
      description: 'Path of the private key on the worker machines (the key itself never passes through the API).',
    }),
    hostKeyFingerprint: t.string({
      description: 'Pinned host key, as `ssh-keygen -lf -E sha256` prints it. Required unless trustOnFirstUse.',
    }),
    trustOnFirstUse: t.boolean({ description: 'No fingerprint: pin the key the host presents at the first connection (default false).' }),
    defaults: t.field({ type: HypervisorDefaultsInput }),
    ticketRef: t.string(),
    idempotencyKey: idempotencyKeyField(t),
  }),
});

interface RegisterPayload {
  hypervisor: HostView | null;
  created: boolean;
  job: JobRecord | null;
  userErrors: UserError[];
}
const RegisterHypervisorPayload = builder.objectRef<RegisterPayload>('RegisterHypervisorPayload').implement({
  fields: (t) => ({
    hypervisor: t.field({ type: HypervisorRef, nullable: true, resolve: (p) => p.hypervisor }),
    created: t.exposeBoolean('created', { description: 'False when an existing registration was replaced.' }),
    job: t.field({ type: JobRef, nullable: true, description: 'The first read of the host (refreshHypervisor).', resolve: (p) => p.job }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('registerHypervisor', (t) =>
  t.field({
    type: RegisterHypervisorPayload,
    description: 'Adds (or replaces) a hypervisor in the registry and queues its first read.',
    args: { input: t.arg({ type: RegisterHypervisorInputRef, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const { key, rest } = splitKey(input);
      return withIdempotencyKey<RegisterPayload>(
        ctx.idempotency,
        { key, scope: ctx.caller.id, operation: 'registerHypervisor', input: rest },
        {
          keep: (a) => (a.job ? JSON.stringify({ jobId: a.job.id, created: a.created, name: a.hypervisor?.host.name ?? null }) : null),
          replay: async (kept) => {
            const { jobId, created, name } = JSON.parse(kept) as { jobId: string; created: boolean; name: string | null };
            return {
              hypervisor: name ? ((await ctx.hostView(name)) ?? null) : null,
              created,
              job: await ctx.store.get(jobId),
              userErrors: [],
            };
          },
          refuse: (userErrors) => ({ hypervisor: null, created: false, job: null, userErrors }),
        },
        () => registerHypervisor(ctx, rest, ctx),
      );
    },
  }),
);

const RemoveHypervisorInputRef = builder.inputType('RemoveHypervisorInput', {
  fields: (t) => ({ name: t.string({ required: true }) }),
});
const RemoveHypervisorPayload = builder
  .objectRef<{ removedName: string | null; userErrors: UserError[] }>('RemoveHypervisorPayload')
  .implement({
    fields: (t) => ({
      removedName: t.exposeString('removedName', { nullable: true }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationField('removeHypervisor', (t) =>
  t.field({
    type: RemoveHypervisorPayload,
    description: 'Forgets a hypervisor (registry and cached state). Nothing on the host changes.',
    args: { input: t.arg({ type: RemoveHypervisorInputRef, required: true }) },
    resolve: (_root, { input }, ctx) => removeHypervisor(ctx, input.name, ctx),
  }),
);

const HostKeyPayload = builder.objectRef<{ hypervisor: HostView | null; userErrors: UserError[] }>('RotateHostKeyPayload').implement({
  fields: (t) => ({
    hypervisor: t.field({ type: HypervisorRef, nullable: true, resolve: (p) => p.hypervisor }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('rotateHostKey', (t) =>
  t.field({
    type: HostKeyPayload,
    description:
      "Re-pins a hypervisor's SSH host key after a rotation on the host (admins): only while the key pinned now is `expectedFingerprint` (HOST_KEY_CONFLICT otherwise). `hostKeyFingerprint: null` pins the key it presents at the next connection.",
    args: {
      input: t.arg({
        type: builder.inputType('RotateHostKeyInput', {
          fields: (f) => ({
            name: f.string({ required: true }),
            expectedFingerprint: f.string({ required: true, description: 'The key pinned now.' }),
            hostKeyFingerprint: f.string({ description: 'The new key; null or left out: pin the key presented at the next connection.' }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input: { name, expectedFingerprint, hostKeyFingerprint } }, ctx) =>
      rotateHostKey(ctx, name, { expectedFingerprint, hostKeyFingerprint: hostKeyFingerprint ?? null }, ctx),
  }),
);

const RefreshHypervisorInputRef = builder.inputType('RefreshHypervisorInput', {
  fields: (t) => ({
    hypervisors: t.stringList({ description: 'Hosts to read; all registered hosts when omitted.' }),
    idempotencyKey: idempotencyKeyField(t),
  }),
});
const RefreshHypervisorPayload = changePayloadType('RefreshHypervisorPayload');

builder.mutationField('refreshHypervisor', (t) =>
  t.field({
    type: RefreshHypervisorPayload,
    description: JOB_KIND_DESCRIPTIONS.refreshHypervisor,
    args: { input: t.arg({ type: RefreshHypervisorInputRef }) },
    resolve: (_root, { input }, ctx) =>
      idempotentChange(ctx, 'refreshHypervisor', input, (rest) =>
        refreshHypervisors(ctx, (rest.hypervisors as string[] | null | undefined) ?? null, ctx),
      ),
  }),
);
