/**
 * The Anthropic Messages API surface (`POST /v1/messages`): clients speak Anthropic's dialect and
 * any provider may serve them, through the canonical format.
 */

export { type MessagesErrorBody, messagesErrorBody, messagesStreamErrorEvent } from './errors.ts';
export { type MessagesEvent, toMessagesEvents } from './events.ts';
export { parseMessagesRequest } from './parse-request.ts';
export { type MessagesContentBlock, type MessagesResponse, toMessagesResponse } from './response.ts';
