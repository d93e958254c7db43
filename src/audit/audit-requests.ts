import { isScoped, roleDenials } from '../auth/authorize.ts';
import type { Caller } from '../auth/caller.ts';
import { ErrorCode } from '../errors/codes.ts';
import { Refusal } from '../requests/refusal.ts';
import type { AuditEntry } from './audit-entry.ts';
import type { AuditFilter, AuditLog } from './audit-log.ts';

/** Reading the audit log: admins of every host (an admin limited to host groups would see other teams' work). */
function mayRead(caller: Caller): void {
  const denied = roleDenials(caller, 'admin', 'reading the audit log');
  if (denied.length) throw new Refusal(denied);
  if (isScoped(caller))
    throw new Refusal([
      {
        field: [],
        code: ErrorCode.FORBIDDEN,
        message: 'reading the audit log needs an admin token of every host (this one is limited to host groups)',
      },
    ]);
}

export async function listAudit(
  deps: { audit: AuditLog; caller: Caller },
  filter: AuditFilter,
  page: { limit: number; cursor?: string | null },
): Promise<{ entries: AuditEntry[]; more: boolean }> {
  mayRead(deps.caller);
  return deps.audit.list(filter, page);
}

export function exportAudit(deps: { audit: AuditLog; caller: Caller }, filter: AuditFilter): AsyncGenerator<AuditEntry> {
  mayRead(deps.caller);
  return deps.audit.export(filter);
}
