/**
 * @module Files uploaded to /v1/files, found for a chat `file_id` part (issue 19): the caller sees
 * only their own (as GET /v1/files/{id} does; admins and auth-off see every one). The size comes
 * from the row, so a file over the chat limit is refused before its bytes are read.
 */
import { readFile } from 'node:fs/promises';
import type { Db } from '../store/db.js';
import type { UploadedFile } from '../providers/provider-adapter.js';
import type { UploadedFiles } from '../pipeline/pipeline-request.js';
import { jobStores, visibleOwner } from './jobs-stores.js';

export function uploadedFiles(db: Db): UploadedFiles {
  return {
    find(fileId, identity): UploadedFile | undefined {
      const row = jobStores(db).files.get(fileId);
      const owner = visibleOwner(identity);
      if (!row || (owner !== undefined && row.owner !== owner)) return undefined;
      return { filename: row.filename, bytes: row.bytes, read: () => readFile(row.path) };
    },
  };
}
