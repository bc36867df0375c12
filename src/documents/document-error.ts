/**
 * @module The one error a document can raise (bad bytes, encrypted or corrupt PDF, too many pages,
 * too many pixels). Always the client's fault: a 400 naming the problem, in OpenAI's envelope. The
 * message never carries the client's bytes.
 */
import { HttpError } from '../errors/http-error.js';

export type DocumentErrorCode =
  | 'unsupported_file_type'
  | 'file_type_mismatch'
  | 'encrypted_pdf'
  | 'corrupt_pdf'
  | 'corrupt_image'
  | 'too_many_pages'
  | 'image_too_large';

export class DocumentError extends HttpError {
  constructor(
    readonly code: DocumentErrorCode,
    message: string,
    param: string | null = 'file',
  ) {
    super(400, message, { code, param });
  }
}
