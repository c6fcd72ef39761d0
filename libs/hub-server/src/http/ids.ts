import { randomBytes } from 'node:crypto';

/** A URL-safe CSPRNG id: 16 bytes, base64url, 22 characters (ASP.NET's connection id shape). */
export function newConnectionId(): string {
  return randomBytes(16).toString('base64url');
}
