/**
 * authorize: may this caller use what it asked for? A model outside the key's scope gets the
 * same 404 as a model that does not exist, so keys cannot probe which models are configured.
 */
import type { Stage } from '../../core/stage.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { modelAllowed } from '../../policy/model-patterns.ts';

export function createAuthorizeStage(): Stage {
  return {
    name: 'authorize',
    onRequest(ctx) {
      const caller = ctx.caller;
      if (!caller) throw new Error('authorize: no caller (identify must run first)');
      // Prompt APIs: the right to the API was checked by the prompt_api stage (owner team or an
      // approved subscription); the API's owner chose the model, not the caller.
      if (ctx.promptApi !== undefined) return;
      const req = ctx.request;
      if (!req) throw new Error('authorize: no request (validate must run first)');
      const model = req.operation === 'models' ? req.modelId : req.body.model;
      if (model !== undefined && !modelAllowed(caller.allowedModels, model)) {
        throw gatewayError('model.not_found', {
          params: { model },
          internal: { reason: 'outside key scope', keyId: caller.keyId },
        });
      }
    },
  };
}
