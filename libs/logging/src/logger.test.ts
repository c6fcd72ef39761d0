import { describe, expect, it } from 'vitest';
import { scrubSecrets } from './logger.js';

describe('scrubSecrets (the last step before a log line is written)', () => {
  it.each([
    ['{"msg":"GET /hubs/chat?id=AbC-123_x.y&x=1"}', '{"msg":"GET /hubs/chat?id=[redacted]&x=1"}'],
    ['{"url":"/hubs/chat?foo=1&access_token=eyJhbGciOi.J9.sig"}', '{"url":"/hubs/chat?foo=1&access_token=[redacted]"}'],
    ['{"h":"Authorization: Bearer eyJ0eXAi.abc.def"}', '{"h":"Authorization: Bearer [redacted]"}'],
    ['{"redis":"redis://user:pa55@host:6379"}', '{"redis":"redis://***@host:6379"}'],
  ])('%s', (line, scrubbed) => {
    expect(scrubSecrets(line)).toBe(scrubbed);
  });

  it('leaves ordinary fields alone (connectionId is not a token)', () => {
    const line = '{"connectionId":"abc","msg":"connection opened","hub":"chat","paid=1":"x"}';
    expect(scrubSecrets(line)).toBe(line);
  });
});
