export { H1Pool, H1Error, type H1Handler, type H1PoolOptions, type H1RequestOptions } from './pool.js';
export { buildRequestBytes, InvalidRequestError } from './request-bytes.js';
export { ResponseParser, ResponseParseError, MAX_HEAD_BYTES, type ResponseSink } from './response-parser.js';
