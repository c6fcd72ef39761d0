/**
 * The texts of the HTTP and upgrade refusals clients see, in one table (as `invocationErrors` holds
 * the invocation errors). Most are ASP.NET's own words, which the official client and its
 * functional tests compare: change them only together with the protocol doc (section 9).
 * A leaf module: the transports, the server, negotiate and the scale-out (forwarded requests) all
 * answer with these.
 */
export const refusals = {
  /** A token for a connection this node (or, forwarded, any node) does not hold, or one that ended. ASP.NET's text. */
  noConnection: 'No Connection with that ID',
  /** A transport request without `?id=`. ASP.NET's text. */
  connectionIdRequired: 'Connection ID required',
  /** A request of another transport for a connection that has one. ASP.NET's text. */
  changeTransports: 'Cannot change transports mid-connection',
  /** A second WebSocket for a connection (no stateful-reconnect takeover). */
  webSocketActive: 'This connection already has an active WebSocket.',
  /** A second SSE GET for a connection. */
  sseActive: 'This connection already has an active Server-Sent Events stream.',
  /** DELETE on a connection other than long polling. ASP.NET's text. */
  deleteNotAllowed: 'Cannot terminate this connection using the DELETE endpoint.',
  /** POST for a connection held over a WebSocket. ASP.NET's text. */
  postOnWebSocket: 'POST requests are not allowed for WebSocket connections.',
  /** Negotiate, upgrades and first transport requests after `stopAccepting`. */
  draining: 'This hub node is shutting down; connect to another node.',
  /** SB_CONNECTION_LIMIT: the node holds `maxConnections`. */
  full: (max: number) => `SB_CONNECTION_LIMIT: this hub node holds its maximum of ${max} connections (maxConnections); try again later or connect to another node.`,
} as const;
