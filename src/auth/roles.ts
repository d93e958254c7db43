/**
 * Roles, each allowing what the one before it does and more: viewer reads (queries,
 * subscriptions, plans); operator also changes hosts (change mutations, verifyVlan, refresh) and
 * cancels its own jobs; admin also manages hosts (register/remove), tokens, host groups,
 * webhooks and reads the audit log, and cancels anyone's job.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` allows what `needed` does. */
export function roleAllows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
