/** Agent registrar (RFC 3261 10.3) and Contact parsing (RFC 3261 20.10). No sockets. */
export {
  ContactLimits,
  MALFORMED_EXPIRES,
  parseContacts,
  type ContactParseError,
  type ParsedContact,
} from './contact.js';
export {
  Registrar,
  bindingKey,
  type BindingsListener,
  type ContactBinding,
  type ContactRequest,
  type RegisterResult,
  type RegisteredContact,
  type RegistrarOptions,
} from './registrar.js';
