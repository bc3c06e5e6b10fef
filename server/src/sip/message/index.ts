/** SIP message edge: parse, validate, answer statelessly (docs/architecture.md practice 2). */
export { parseSip, DEFAULT_ACCEPTED_CONTENT_TYPES, type ParseResult, type ParseOptions } from './parse.js';
export { buildResponse, reasonPhrase, statelessTag, REASON_PHRASES, type ResponseOptions } from './response.js';
export { addReceived, parseVia, topVia, responseDestination, type ViaInfo, type ResponseDestination } from './via.js';
export { UNKNOWN_SCHEME_HOST, sipJsParse, parseText } from './sipjs.js';
