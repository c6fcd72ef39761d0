import { describe, expect, it } from 'vitest';
import { formatSseEvent } from './sse-transport.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('formatSseEvent', () => {
  it.each([
    ['one JSON record', '{}\u001e', 'data: {}\u001e\r\n\r\n'],
    ['two records in one unit', '{"type":6}\u001e{"type":6}\u001e', 'data: {"type":6}\u001e{"type":6}\u001e\r\n\r\n'],
    ['LF splits lines', 'a\nb', 'data: a\r\ndata: b\r\n\r\n'],
    ['CRLF loses its CR', 'a\r\nb', 'data: a\r\ndata: b\r\n\r\n'],
    ['a trailing LF gives an empty last line (the client joins it back to "a\\n")', 'a\n', 'data: a\r\ndata: \r\n\r\n'],
    ['an empty payload', '', 'data: \r\n\r\n'],
  ])('%s', (_name, payload, expected) => {
    expect(formatSseEvent(bytes(payload)).toString('utf8')).toBe(expected);
  });

  it('keeps multi-byte UTF-8 and respects the view offset', () => {
    const buffer = bytes('xx☃ snow');
    const view = buffer.subarray(2);
    expect(formatSseEvent(view).toString('utf8')).toBe('data: ☃ snow\r\n\r\n');
  });
});
