import type { FastifyInstance } from 'fastify';
import type { AuditRepository } from '../state/audit-repository.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Records a change made by this request in the audit log (who, what, when, request id). */
    audit(action: string, resource: string, detail?: unknown): Promise<void>;
  }
}

/** Gives every request an `audit()` bound to its principal and request id. */
export function registerAudit(app: FastifyInstance, audit: AuditRepository): void {
  app.decorateRequest('audit', async function (this: import('fastify').FastifyRequest, action: string, resource: string, detail?: unknown) {
    await audit.record({
      actor: this.principal?.actor ?? 'anonymous',
      role: this.principal?.role ?? 'none',
      action,
      resource,
      request_id: this.id,
      detail,
    });
    this.log.info({ action, resource, actor: this.principal?.actor }, 'audit');
  });
}
