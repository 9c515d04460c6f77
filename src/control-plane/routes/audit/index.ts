import { Type } from '@sinclair/typebox';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { errors } from '../../schemas/common.js';

/** The audit log, newest first (admin only). */
export async function auditRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  app.get(
    '/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['audit'],
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }), resource: Type.Optional(Type.String({ maxLength: 256 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            entries: Type.Array(
              Type.Object({
                id: Type.Integer(),
                at: Type.String(),
                actor: Type.String(),
                role: Type.String(),
                action: Type.String(),
                resource: Type.String(),
                request_id: Type.Union([Type.String(), Type.Null()]),
                detail: Type.Unknown(),
              }),
            ),
          }),
          ...errors(),
        },
      },
    },
    async (request) => ({ entries: await cp.state.audit.list(request.query.limit, request.query.resource) }),
  );
}
