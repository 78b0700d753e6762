/**
 * The Anthropic Messages API surface (`POST /v1/messages`): clients speak Anthropic's dialect and
 * any provider may serve them, through the canonical format.
 */
export { parseMessagesRequest } from './parse-request.ts';
export { toMessagesResponse, type MessagesResponse, type MessagesContentBlock } from './response.ts';
export { toMessagesEvents, type MessagesEvent } from './events.ts';
export { messagesErrorBody, messagesStreamErrorEvent, type MessagesErrorBody } from './errors.ts';
