/**
 * @module The shape every condensation method has: messages in, (usually fewer) messages out. A method
 * throws when it cannot do its job; the caller then keeps the messages it was given.
 */
import type { ChatMessage } from '../../providers/provider-adapter.js';
import type { Helper } from '../helper-model.js';

export interface MethodContext {
  helper: Helper;
}

export type CondenseMethod = (messages: ChatMessage[], mc: MethodContext) => Promise<ChatMessage[]>;
