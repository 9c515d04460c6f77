import { Type } from '@sinclair/typebox';
import { errorMessage } from '../../../core/errors.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';

const Check = Type.Object({ status: Type.Union([Type.Literal('up'), Type.Literal('down')]), error: Type.Optional(Type.String()) });

/** Liveness (the process answers) and readiness (each dependency answers). */
export async function healthRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  app.get(
    '/health/live',
    { config: { access: 'public' }, schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('up') }) } } },
    async () => ({ status: 'up' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        response: {
          200: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) }),
          503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) }),
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, { status: 'up' | 'down'; error?: string }> = {};
      try {
        await cp.state.db.ping();
        checks.state_database = { status: 'up' };
      } catch (error) {
        checks.state_database = { status: 'down', error: errorMessage(error) };
      }
      const ready = Object.values(checks).every((c) => c.status === 'up');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
}
