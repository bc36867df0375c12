/**
 * @module The limits ticket of a request no limit applies to (anonymous, a key without limits, every
 * stage off): settling or releasing it does nothing. One frozen object shared by the limits stage and
 * the pipeline's all-off stages.
 */
import type { LimitTicket } from '../pipeline/stages.js';

export const NO_TICKET: LimitTicket = Object.freeze({ settle() {}, release() {}, inactive: true });
